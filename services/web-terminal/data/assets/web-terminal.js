// The page of odd-web-terminal: xterm.js on the server's /ws (frames: contracts/schemas/
// web-terminal-*-frame.json). A reload resumes the same session with its single-use reconnect
// token (kept in sessionStorage, per tab); when the terminal cannot be reached the page shows
// the read model's numbers instead.
'use strict';

(function () {
  const SESSION_KEY = 'odd-wt-session';
  const AUTH_KEY = 'odd-wt-auth';
  const PING_MS = 25000;
  const STATS_MS = 10000;
  const FAILURES_BEFORE_FALLBACK = 2;

  const statusEl = document.getElementById('status');
  const terminalEl = document.getElementById('terminal');
  const authForm = document.getElementById('auth');
  const authInput = document.getElementById('auth-token');
  const authError = document.getElementById('auth-error');
  const fallback = document.getElementById('fallback');
  const fallbackReason = document.getElementById('fallback-reason');
  const statsEl = document.getElementById('stats');
  const statsNote = document.getElementById('stats-note');
  const restartButton = document.getElementById('restart');

  const term = new Terminal({
    cursorBlink: true,
    fontFamily: '"DejaVu Sans Mono", "Cascadia Code", "Fira Code", monospace',
    fontSize: 14,
    theme: {
      background: '#0f0c29', foreground: '#ffffff', cursor: '#00ff88',
      red: '#ff4757', green: '#00ff88', yellow: '#ffd700', blue: '#00d4ff',
      magenta: '#ff6b9d', cyan: '#00d4ff',
    },
  });
  const fit = new FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open(terminalEl);
  fit.fit();

  let ws = null;
  let attached = false;
  let gotHello = false;
  let failures = 0;
  let retryTimer = 0;
  let pingTimer = 0;
  let statsTimer = 0;
  let stopped = false;     // no automatic reconnect (auth prompt, idle end, exit)
  let lastError = null;    // the server's word on why this connection ends

  // For the browser tests: what the page believes.
  window.__oddWt = {
    state: 'connecting',
    sessionId: null,
    reconnects: 0,
    screenText: () => {
      const buffer = term.buffer.active;
      const lines = [];
      for (let y = 0; y < term.rows; y++) {
        const line = buffer.getLine(buffer.viewportY + y);
        lines.push(line ? line.translateToString(true) : '');
      }
      return lines.join('\n');
    },
  };

  function setStatus (text, kind) {
    statusEl.textContent = text;
    statusEl.className = 'status' + (kind ? ' ' + kind : '');
    window.__oddWt.state = text;
  }

  function savedSession () {
    try {
      return JSON.parse(sessionStorage.getItem(SESSION_KEY));
    } catch (e) {
      return null;
    }
  }

  function send (frame) {
    if (ws && ws.readyState === WebSocket.OPEN)
      ws.send(JSON.stringify(frame));
  }

  function attach () {
    const saved = savedSession();
    const size = { cols: term.cols, rows: term.rows };

    if (saved && saved.session && saved.token)
      send(Object.assign({ type: 'reconnect', session: saved.session, token: saved.token }, size));
    else
      send(Object.assign({ type: 'start' }, size));
  }

  function showTerminal () {
    fallback.hidden = true;
    authForm.hidden = true;
    terminalEl.classList.remove('hidden');
    clearInterval(statsTimer);
    statsTimer = 0;
  }

  function showFallback (reason) {
    fallbackReason.textContent = reason;
    terminalEl.classList.add('hidden');
    if (!fallback.hidden)
      return;
    fallback.hidden = false;
    loadStats();
    statsTimer = setInterval(loadStats, STATS_MS);
  }

  function tile (label, value, cls) {
    const div = document.createElement('div');
    div.className = 'tile ' + (cls || '');
    const v = document.createElement('div');
    v.className = 'value';
    v.textContent = value;
    const l = document.createElement('div');
    l.className = 'label';
    l.textContent = label;
    div.append(v, l);
    return div;
  }

  async function loadStats () {
    try {
      const response = await fetch('/api/stats', { cache: 'no-store' });
      const body = await response.json();
      if (!response.ok)
        throw new Error(body.details && body.details[0] ? body.details[0].message : body.error);
      const number = (n) => (typeof n === 'number' ? n.toLocaleString('en') : '—');
      statsEl.replaceChildren(
        tile('Total jobs', number(body.totalJobs)),
        tile('In flight', number(body.inFlightJobs)),
        tile('Completed', number(body.completedJobs), 'completed'),
        tile('Failed', number(body.failedJobs), 'failed'),
        tile('Jobs/s', typeof body.throughputPerSec === 'number' ? body.throughputPerSec.toFixed(2) : '—'));
      statsNote.textContent = body.lastEventTime
        ? 'Last event ' + new Date(body.lastEventTime).toLocaleString() + '; updated every 10 s.'
        : 'No job events yet; updated every 10 s.';
      statsNote.className = 'note';
    } catch (e) {
      statsEl.replaceChildren();
      statsNote.textContent = 'The read model is not reachable either (' + e.message + ').';
      statsNote.className = 'error';
    }
  }

  function askForToken (message) {
    stopped = true;
    sessionStorage.removeItem(AUTH_KEY);
    authError.textContent = message || '';
    authError.hidden = !message;
    fallback.hidden = true;
    clearInterval(statsTimer);
    statsTimer = 0;
    terminalEl.classList.add('hidden');
    authForm.hidden = false;
    authInput.focus();
    setStatus('Waiting for a token', 'warn');
  }

  function scheduleReconnect () {
    if (stopped || retryTimer)
      return;
    const delay = Math.min(1000 * Math.pow(1.5, failures), 30000);
    setStatus('Disconnected — retrying in ' + Math.round(delay / 1000) + ' s', 'warn');
    retryTimer = setTimeout(() => { retryTimer = 0; connect(); }, delay);
  }

  function onFrame (frame) {
    switch (frame.type) {
    case 'hello':
      gotHello = true;
      if (frame.authRequired) {
        const token = sessionStorage.getItem(AUTH_KEY);
        if (!token) {
          askForToken('');
          return;
        }
        send({ type: 'auth', token: token });
      }
      attach();
      break;
    case 'session':
    case 'reconnected':
      attached = true;
      failures = 0;
      if (frame.type === 'session')
        term.reset();
      else
        window.__oddWt.reconnects++;
      sessionStorage.setItem(SESSION_KEY, JSON.stringify({ session: frame.sessionId, token: frame.reconnectToken }));
      window.__oddWt.sessionId = frame.sessionId;
      restartButton.hidden = true;
      showTerminal();
      setStatus(frame.type === 'session' ? 'Connected' : 'Connected (session resumed)', 'ok');
      fit.fit();
      send({ type: 'resize', cols: term.cols, rows: term.rows });
      term.focus();
      break;
    case 'output':
      term.write(frame.data);
      break;
    case 'notice':
      setStatus(frame.message, 'warn');
      break;
    case 'pong':
      break;
    case 'exit':
      stopped = true;
      sessionStorage.removeItem(SESSION_KEY);
      setStatus('The dashboard exited (status ' + frame.status + ').', 'warn');
      restartButton.hidden = false;
      break;
    case 'error':
      onError(frame);
      break;
    }
  }

  function onError (frame) {
    switch (frame.code) {
    case 'AUTH_REQUIRED':
    case 'AUTH_FAILED':
      askForToken(frame.message);
      break;
    case 'INVALID_TOKEN':
      // The session is gone (or the token was used): start a new one right away.
      sessionStorage.removeItem(SESSION_KEY);
      failures = 0;
      setStatus('The previous session ended; starting a new one…', 'warn');
      break;
    case 'IDLE_TIMEOUT':
      stopped = true;
      sessionStorage.removeItem(SESSION_KEY);
      setStatus(frame.message, 'warn');
      restartButton.hidden = false;
      break;
    case 'BAD_FRAME':
      console.warn('odd-web-terminal:', frame.message);
      break;
    default:
      lastError = frame.message;
      failures = Math.max(failures, FAILURES_BEFORE_FALLBACK);
      setStatus(frame.message, 'bad');
      showFallback(frame.message);
      break;
    }
  }

  function connect () {
    const url = new URL('/ws', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    // Failure injection for the tests; the server ignores it unless started with ODD_WT_FAULTS=1.
    const fault = new URLSearchParams(location.search).get('fault');
    if (fault)
      url.searchParams.set('fault', fault);

    stopped = false;
    attached = false;
    gotHello = false;
    lastError = null;
    setStatus('Connecting…');
    const socket = new WebSocket(url);
    ws = socket;
    // A socket replaced by a newer one (a token entered, Retry) has nothing more to say.
    socket.onmessage = (event) => {
      if (socket !== ws)
        return;
      try {
        onFrame(JSON.parse(event.data));
      } catch (e) {
        console.error('odd-web-terminal: bad frame', e);
      }
    };
    socket.onclose = () => {
      if (socket !== ws)
        return;
      const wasAttached = attached;
      ws = null;
      attached = false;
      if (stopped)
        return;
      if (!wasAttached)
        failures++;
      if (failures >= FAILURES_BEFORE_FALLBACK || (!gotHello && failures > 0))
        showFallback(lastError || (gotHello ? 'The terminal server refused the session.'
                                            : 'Cannot connect to the terminal server at ' + location.host + '.'));
      scheduleReconnect();
    };
  }

  term.onData((data) => send({ type: 'input', data: data }));

  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      fit.fit();
      if (attached)
        send({ type: 'resize', cols: term.cols, rows: term.rows });
    }, 100);
  });

  pingTimer = setInterval(() => send({ type: 'ping' }), PING_MS);

  authForm.addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(AUTH_KEY, authInput.value);
    authInput.value = '';
    authForm.hidden = true;
    const previous = ws;
    connect();
    if (previous)
      previous.close();
  });

  function restart () {
    clearTimeout(retryTimer);
    retryTimer = 0;
    failures = 0;
    const previous = ws;
    connect();
    if (previous)
      previous.close();
  }

  document.getElementById('retry').addEventListener('click', restart);
  restartButton.addEventListener('click', () => {
    sessionStorage.removeItem(SESSION_KEY);
    restart();
  });

  connect();
})();
