// Browser checks of odd-web-terminal's page, one scenario per run:
//   node web-terminal.mjs <page URL> <scenario> <screenshot dir> [expected totalJobs | token]
// Scenarios: dashboard (the TUI renders, a key reaches it), reload (the same session comes
// back), fallback (with ?fault=reject: the read model's real numbers), auth (a server with a
// token: the page asks, refuses a wrong one, connects with the right one). Debian's chromium
// (/usr/bin/chromium) through playwright-core; never a downloaded browser. Exit 0 = pass.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, scenario, shots, expectedTotal] = process.argv.slice(2);
const token = expectedTotal;
const TIMEOUT = 30000;

function fail (message) {
  throw new Error(message);
}

async function screen (page) {
  return page.evaluate(() => window.__oddWt.screenText());
}

async function waitForScreen (page, text) {
  await page.waitForFunction((t) => window.__oddWt && window.__oddWt.screenText().includes(t), text,
                             { timeout: TIMEOUT })
    .catch(async () => fail(`"${text}" never showed; the screen was:\n${await screen(page)}`));
}

async function waitForState (page, text) {
  await page.waitForFunction((t) => window.__oddWt && window.__oddWt.state.includes(t), text,
                             { timeout: TIMEOUT })
    .catch(async () => fail(`status never became "${text}"; it is "${await page.evaluate(() => window.__oddWt.state)}"`));
}

async function dashboard (page) {
  await page.goto(url);
  await waitForState(page, 'Connected');
  await waitForScreen(page, 'Recent jobs');
  await waitForScreen(page, 'Total');
  await page.screenshot({ path: join(shots, 'web-terminal-dashboard.png') });
  // 'n' opens the new-job form: the key went through the PTY to the TUI and back.
  await page.locator('#terminal').click();
  await page.keyboard.press('n');
  await waitForScreen(page, 'New job');
  await page.screenshot({ path: join(shots, 'web-terminal-new-job.png') });
  await page.keyboard.press('Escape');
}

async function reload (page) {
  await page.goto(url);
  await waitForState(page, 'Connected');
  await waitForScreen(page, 'Recent jobs');
  const before = await page.evaluate(() => window.__oddWt.sessionId);
  await page.locator('#terminal').click();
  await page.keyboard.press('n');
  await waitForScreen(page, 'New job');

  await page.reload();
  await waitForState(page, 'session resumed');
  const after = await page.evaluate(() => window.__oddWt.sessionId);
  if (after !== before)
    fail(`the reload got session ${after}, not ${before}`);
  // The same TUI, still in the form it was left in.
  await waitForScreen(page, 'New job');
  await page.screenshot({ path: join(shots, 'web-terminal-reloaded.png') });
}

async function fallback (page) {
  await page.goto(url + (url.includes('?') ? '&' : '?') + 'fault=reject');
  await page.locator('#fallback').waitFor({ state: 'visible', timeout: TIMEOUT });
  await page.locator('#stats .tile').first().waitFor({ timeout: TIMEOUT });
  const total = await page.locator('#stats .tile').first().locator('.value').innerText();
  if (expectedTotal !== undefined && total.replace(/,/g, '') !== expectedTotal)
    fail(`the fallback shows ${total} jobs, the read model ${expectedTotal}`);
  if (Number(total.replace(/,/g, '')) === 0 && expectedTotal !== '0')
    fail('the fallback shows 0 jobs');
  await page.screenshot({ path: join(shots, 'web-terminal-fallback.png') });
}

async function auth (page) {
  await page.goto(url);
  await page.locator('#auth').waitFor({ state: 'visible', timeout: TIMEOUT });
  await page.fill('#auth-token', token + '-wrong');
  await page.click('#auth button');
  await page.locator('#auth-error').waitFor({ state: 'visible', timeout: TIMEOUT });
  await page.screenshot({ path: join(shots, 'web-terminal-auth-refused.png') });
  await page.fill('#auth-token', token);
  await page.click('#auth button');
  await waitForState(page, 'Connected');
  await waitForScreen(page, 'Recent jobs');
  if (await page.locator('#auth').isVisible())
    fail('the token prompt is still shown');
}

const scenarios = { dashboard, reload, fallback, auth };
if (!scenarios[scenario])
  fail(`unknown scenario ${scenario}: ${Object.keys(scenarios).join(', ')}`);

const profile = mkdtempSync(join(tmpdir(), 'odd-chromium-'));
// A fresh profile (playwright passes it as --user-data-dir).
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1100, height: 700 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let status = 0;
try {
  const page = await browser.newPage();
  page.on('pageerror', (error) => { console.error('page error:', error.message); status = 1; });
  await scenarios[scenario](page);
  console.log(`ok ${scenario}`);
} catch (error) {
  console.error(`not ok ${scenario}: ${error.message}`);
  status = 1;
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(status);
