// validate-manifests.mjs: checks the rendered Kubernetes manifests offline (TAP on stdout).
//
//   node validate-manifests.mjs --modules NPM_DIR --version 0.1.0 --source-dir SRC \
//        --overlay kind.yaml base.yaml kind.yaml
//
// NPM_DIR holds node_modules with kubernetes-models@5.1.0 and yaml (`npm install --prefix
// NPM_DIR kubernetes-models@5.1.0 yaml@2.9.1`; ES modules ignore NODE_PATH, hence the option).
//
// Every object is validated against the Kubernetes 1.27 schemas bundled in the npm package
// kubernetes-models (no cluster, no network), then against the project's own rules: labels,
// probes, resources, security context, pinned images, selectors, scrape targets, alert runbooks
// and the metric names the dashboards and rules use; and the replicas: a PodDisruptionBudget
// for every service that lets a node drain proceed, autoscalers that target an existing
// Deployment with CPU requests (and only metrics something provides), anti-affinity that
// selects the service's own pods, and a termination grace period above the drain's bound. The arguments after the options are
// `kubectl kustomize` outputs; the one named by --overlay is the kind overlay.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opts = { modules: null, version: null, sourceDir: null, overlay: null, files: [] };
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--modules') opts.modules = args[++i];
  else if (args[i] === '--version') opts.version = args[++i];
  else if (args[i] === '--source-dir') opts.sourceDir = args[++i];
  else if (args[i] === '--overlay') opts.overlay = args[++i];
  else opts.files.push(args[i]);
}
if (!opts.modules || !opts.version || !opts.sourceDir || opts.files.length === 0) {
  console.error('usage: validate-manifests.mjs --modules NPM_DIR --version V --source-dir DIR [--overlay FILE] FILE...');
  process.exit(2);
}

// kubernetes-models is ES modules only; it is imported by file URL from the given directory.
function modelsDir() {
  return join(resolve(opts.modules), 'node_modules', 'kubernetes-models');
}

const require = createRequire(join(resolve(opts.modules), 'package.json'));
let parseAllDocuments, parseYaml;
try {
  ({ parseAllDocuments, parse: parseYaml } = require('yaml'));
  statSync(join(modelsDir(), 'v1', 'Service.js'));
} catch (e) {
  console.log('Bail out! kubernetes-models or yaml is not installed');
  console.error(`The validator needs kubernetes-models and yaml in ${opts.modules}: ` +
                `npm install --prefix ${opts.modules} kubernetes-models@5.1.0 yaml@2.9.1\n(${e.message})`);
  process.exit(1);
}

let n = 0;
let failed = 0;
function ok(cond, name, detail) {
  n++;
  if (cond) {
    console.log(`ok ${n} - ${name}`);
  } else {
    failed++;
    console.log(`not ok ${n} - ${name}`);
    if (detail) for (const line of String(detail).split('\n')) console.log(`# ${line}`);
  }
}

const OUR_SERVICES = { gateway: 3000, processor: 8000, 'metrics-engine': 8001, 'read-model': 8080, 'web-terminal': 9000 };
const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'];
// Cluster-wide objects (prometheus-adapter's API registration and roles) have no namespace.
const CLUSTER_KINDS = ['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'APIService'];

// The one object allowed outside namespace odd: an aggregated API server's right to read the
// authentication configuration, which lives in kube-system.
function isAuthReaderBinding(obj) {
  return obj.kind === 'RoleBinding' && obj.metadata.namespace === 'kube-system' &&
    obj.roleRef?.kind === 'Role' && obj.roleRef?.name === 'extension-apiserver-authentication-reader';
}

async function schemaErrors(obj) {
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : [null, obj.apiVersion];
  let mod;
  try {
    mod = await import(pathToFileURL(join(modelsDir(), ...(group ? [group] : []), version, `${obj.kind}.js`)).href);
  } catch (e) {
    return `no schema for ${obj.apiVersion} ${obj.kind}: ${e.message}`;
  }
  try {
    new (mod[obj.kind] ?? mod.default)(obj).validate();
    return null;
  } catch (e) {
    return e.message;
  }
}

function labelsMatch(selector, labels) {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

function metricNamesIn(expr) {
  // Identifiers that look like our metrics (histogram suffixes folded onto the family).
  // Recording rules' names (level:metric:operations) are checked by recordedNamesIn.
  const names = new Set();
  expr = expr.replace(/[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_:]*/g, ' ');
  for (const m of expr.matchAll(/\b((?:gateway|processor|metrics_engine|read_model|odd|http|process)_[a-z0-9_]+)\b/g)) {
    names.add(m[1].replace(/_(bucket|sum|count)$/, ''));
  }
  return names;
}

function recordedNamesIn(expr) {
  return new Set([...expr.matchAll(/\b[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_:]*/g)].map((m) => m[0]));
}

// The pods a workload can have at least: an autoscaler's minReplicas, else spec.replicas.
function minimumReplicas(deployment, hpas) {
  const hpa = hpas.find((h) => h.spec.scaleTargetRef.kind === 'Deployment' &&
                               h.spec.scaleTargetRef.name === deployment.metadata.name);
  return hpa ? (hpa.spec.minReplicas ?? 1) : (deployment.spec.replicas ?? 1);
}

// A PodDisruptionBudget's number (an integer or a percentage of @replicas, rounded as the
// disruption controller does: up for minAvailable and maxUnavailable alike).
function budgetCount(value, replicas) {
  if (typeof value === 'string' && value.endsWith('%')) return Math.ceil((parseInt(value, 10) * replicas) / 100);
  return value;
}

function sourcesText(dir) {
  let text = '';
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) {
      if (entry !== 'tests' && entry !== 'deploy') text += sourcesText(path);
    } else if (entry.endsWith('.c')) {
      text += readFileSync(path, 'utf8');
    }
  }
  return text;
}

const servicesSource = sourcesText(join(opts.sourceDir, 'services'));
const runbooks = readFileSync(join(opts.sourceDir, 'docs', 'runbooks.md'), 'utf8');
const runbookAnchors = new Set([...runbooks.matchAll(/^## ([a-z0-9-]+)\s*$/gm)].map((m) => m[1]));

for (const file of opts.files) {
  const label = basename(file) === basename(opts.overlay ?? '') ? 'kind overlay' : basename(file, '.yaml');
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  const objects = docs.map((d) => d.toJS()).filter((o) => o);
  ok(docs.every((d) => d.errors.length === 0), `${label}: YAML parses`, docs.flatMap((d) => d.errors).join('\n'));
  ok(objects.length > 20, `${label}: ${objects.length} objects rendered`);

  // 1. Schemas.
  for (const obj of objects) {
    const err = await schemaErrors(obj);
    ok(err === null, `${label}: ${obj.kind}/${obj.metadata?.name} matches the Kubernetes schema`, err);
  }

  const byKind = (kind) => objects.filter((o) => o.kind === kind);
  const workloads = objects.filter((o) => WORKLOAD_KINDS.includes(o.kind));
  const podTemplates = workloads.map((w) => w.spec.template);

  // 2. Namespace and labels of everything.
  for (const obj of objects) {
    const name = `${obj.kind}/${obj.metadata.name}`;
    if (!CLUSTER_KINDS.includes(obj.kind) && !isAuthReaderBinding(obj)) {
      ok(obj.metadata.namespace === 'odd', `${label}: ${name} is in namespace odd`);
    }
    if (CLUSTER_KINDS.includes(obj.kind)) {
      ok(obj.metadata.namespace === undefined, `${label}: ${name} is cluster-wide`);
    }
    ok(obj.metadata.labels?.['app.kubernetes.io/part-of'] === 'odd', `${label}: ${name} is labelled part-of=odd`);
  }

  // 3. Every workload: pinned images, resources, non-root, no capabilities.
  for (const w of workloads) {
    const name = `${w.kind}/${w.metadata.name}`;
    const pod = w.spec.template.spec;
    const podLabels = w.spec.template.metadata.labels;
    ok(labelsMatch(w.spec.selector.matchLabels, podLabels), `${label}: ${name} selector matches its pod template`);
    for (const key of ['name', 'part-of', 'component', 'version']) {
      ok(typeof podLabels?.[`app.kubernetes.io/${key}`] === 'string' && podLabels[`app.kubernetes.io/${key}`] !== '',
         `${label}: ${name} pods carry app.kubernetes.io/${key}`);
    }
    ok(pod.securityContext?.runAsNonRoot === true, `${label}: ${name} runs as non-root`);
    for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
      const cname = `${name} container ${c.name}`;
      const [, tag] = c.image.split(/:(?=[^:/]+$)/);
      ok(tag !== undefined && tag !== 'latest' && /\d/.test(tag), `${label}: ${cname} image ${c.image} is pinned`);
      ok(c.imagePullPolicy === 'IfNotPresent', `${label}: ${cname} pulls IfNotPresent`);
      for (const kind of ['requests', 'limits']) {
        ok(c.resources?.[kind]?.cpu && c.resources?.[kind]?.memory, `${label}: ${cname} has cpu and memory ${kind}`);
      }
      ok(c.securityContext?.allowPrivilegeEscalation === false, `${label}: ${cname} forbids privilege escalation`);
      ok(JSON.stringify(c.securityContext?.capabilities?.drop) === '["ALL"]', `${label}: ${cname} drops all capabilities`);
      ok(c.livenessProbe && c.readinessProbe, `${label}: ${cname} has liveness and readiness probes`);
      // Credentials only by reference: no literal value for a secret-looking variable.
      const literal = (c.env ?? []).filter((e) => /PASS|TOKEN|SECRET/.test(e.name) && e.value !== undefined);
      ok(literal.length === 0, `${label}: ${cname} takes credentials from a Secret`, literal.map((e) => e.name).join(', '));
    }
  }

  // 4. Our four services.
  const config = byKind('ConfigMap').find((c) => c.metadata.name === 'odd-config');
  ok(config?.data?.ODD_BIND === '0.0.0.0', `${label}: odd-config sets ODD_BIND=0.0.0.0`);
  for (const [svc, port] of Object.entries(OUR_SERVICES)) {
    const d = byKind('Deployment').find((o) => o.metadata.name === svc);
    ok(d !== undefined, `${label}: Deployment ${svc} exists`);
    if (!d) continue;
    const c = d.spec.template.spec.containers[0];
    const lbl = d.spec.template.metadata.labels;
    ok(lbl['app.kubernetes.io/name'] === svc && lbl['app.kubernetes.io/component'] === 'service',
       `${label}: ${svc} pods are labelled name=${svc}, component=service`);
    ok(lbl['app.kubernetes.io/version'] === opts.version && d.metadata.labels['app.kubernetes.io/version'] === opts.version,
       `${label}: ${svc} version label is the project version ${opts.version}`, lbl['app.kubernetes.io/version']);
    ok(c.image === `odd-services:${opts.version}`, `${label}: ${svc} runs odd-services:${opts.version}`, c.image);
    ok(JSON.stringify(c.command) === JSON.stringify([`odd-${svc}`]), `${label}: ${svc} runs odd-${svc}`);
    ok(c.ports?.some((p) => p.name === 'http' && p.containerPort === port), `${label}: ${svc} listens on ${port}`);
    ok(c.env?.some((e) => e.name === 'PORT' && e.value === String(port)), `${label}: ${svc} gets PORT=${port}`);
    ok(c.envFrom?.some((e) => e.configMapRef?.name === 'odd-config'), `${label}: ${svc} reads odd-config`);
    ok(c.livenessProbe?.httpGet?.path === '/healthz', `${label}: ${svc} liveness is GET /healthz`);
    ok(c.readinessProbe?.httpGet?.path === '/readyz', `${label}: ${svc} readiness is GET /readyz`);
    ok(c.securityContext?.readOnlyRootFilesystem === true, `${label}: ${svc} root file system is read-only`);
    ok(d.spec.template.spec.securityContext?.runAsUser === 10001, `${label}: ${svc} runs as uid 10001`);
  }

  // 5. Services select pods that exist; the kind overlay's NodePorts.
  for (const s of byKind('Service')) {
    ok(s.spec.selector && podTemplates.some((t) => labelsMatch(s.spec.selector, t.metadata.labels)),
       `${label}: Service ${s.metadata.name} selects a pod template`);
    for (const p of s.spec.ports) {
      const target = p.targetPort ?? p.port;
      const pods = podTemplates.filter((t) => labelsMatch(s.spec.selector ?? {}, t.metadata.labels));
      ok(pods.some((t) => t.spec.containers.some((c) => (c.ports ?? []).some((cp) => cp.name === target || cp.containerPort === target))),
         `${label}: Service ${s.metadata.name} port ${p.name} targets a container port`);
    }
  }
  const svc = (name) => byKind('Service').find((s) => s.metadata.name === name);
  if (label === 'kind overlay') {
    ok(svc('gateway')?.spec.type === 'NodePort' && svc('gateway').spec.ports[0].nodePort === 30300,
       `${label}: gateway is NodePort 30300`);
    ok(svc('read-model')?.spec.type === 'NodePort' && svc('read-model').spec.ports[0].nodePort === 30080,
       `${label}: read-model is NodePort 30080`);
  }

  // 6. State: PostgreSQL and RabbitMQ keep their data on volumes; pinned major versions.
  const sts = (name) => byKind('StatefulSet').find((s) => s.metadata.name === name);
  ok(sts('postgres')?.spec.volumeClaimTemplates?.length === 1 &&
     /^postgres:15\.\d+/.test(sts('postgres').spec.template.spec.containers[0].image),
     `${label}: PostgreSQL 15.x is a StatefulSet with a PersistentVolumeClaim`);
  ok(sts('rabbitmq')?.spec.volumeClaimTemplates?.length === 1 &&
     /^rabbitmq:3\.12\.\d+-management$/.test(sts('rabbitmq').spec.template.spec.containers[0].image),
     `${label}: RabbitMQ 3.12.x-management is a StatefulSet with a PersistentVolumeClaim`);
  const redis = byKind('Deployment').find((d) => d.metadata.name === 'redis');
  ok(redis && /^redis:7\.\d+\.\d+/.test(redis.spec.template.spec.containers[0].image), `${label}: Redis 7.x.y`);
  for (const name of ['prometheus', 'alertmanager', 'grafana']) {
    ok(byKind('Deployment').some((d) => d.metadata.name === name) && svc(name), `${label}: ${name} is deployed`);
  }

  // 7. The Secret comes from secrets.env, with every key the workloads reference.
  const secrets = byKind('Secret');
  ok(secrets.length === 1 && secrets[0].metadata.name.startsWith('odd-credentials-'),
     `${label}: one generated Secret odd-credentials-<hash>`);
  const secretKeys = new Set(Object.keys(secrets[0]?.data ?? {}));
  for (const w of workloads) {
    for (const c of w.spec.template.spec.containers) {
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (!ref) continue;
        ok(ref.name === secrets[0]?.metadata.name && (ref.optional || secretKeys.has(ref.key)),
           `${label}: ${w.metadata.name} ${e.name} refers to an existing Secret key ${ref.key}`);
      }
    }
  }

  // 8. Prometheus scrapes every service; rules carry severity and runbooks; names exist.
  const promConfigMap = byKind('ConfigMap').find((c) => c.metadata.name.startsWith('prometheus-config-'));
  const prom = parseYaml(promConfigMap.data['prometheus.yml']);
  // Every replica is a target: DNS discovery of a headless Service that lists every pod of
  // the service, ready or not (a Service address would reach one pod at random).
  for (const [name, port] of Object.entries(OUR_SERVICES)) {
    const job = prom.scrape_configs.find((j) => j.job_name === name);
    const names = (job?.dns_sd_configs ?? []).flatMap((d) => (d.port === port && (d.type ?? 'SRV') === 'A') ? d.names : []);
    ok(names.length === 1, `${label}: Prometheus job ${name} discovers every pod on port ${port} by DNS`,
       JSON.stringify(job));
    const headless = svc(names[0]);
    const d = byKind('Deployment').find((o) => o.metadata.name === name);
    ok(headless?.spec.clusterIP === 'None' && headless.spec.publishNotReadyAddresses === true &&
       d && labelsMatch(headless.spec.selector, d.spec.template.metadata.labels) &&
       headless.spec.ports.some((p) => p.port === port),
       `${label}: ${names[0]} is a headless Service of every ${name} pod, ready or not, on port ${port}`);
  }
  const rulesConfigMap = byKind('ConfigMap').find((c) => c.metadata.name.startsWith('prometheus-rules-'));
  const allRules = parseYaml(rulesConfigMap.data['rules.yml']).groups.flatMap((g) => g.rules);
  const rules = allRules.filter((r) => r.alert);
  const records = new Set(allRules.filter((r) => r.record).map((r) => r.record));
  const alertNames = new Set(rules.map((r) => r.alert));
  for (const required of ['ServiceDown', 'ServiceReplicaDown', 'JobFailureRateHigh', 'QueueBacklogGrowing', 'DatabaseDown', 'DeadLettersGrowing', 'GatewayHighLatency']) {
    ok(alertNames.has(required), `${label}: alert ${required} exists`);
  }
  for (const r of rules) {
    ok(['warning', 'critical'].includes(r.labels?.severity), `${label}: ${r.alert} (${r.labels?.severity}) has a severity`);
    const anchor = /^docs\/runbooks\.md#([a-z0-9-]+)$/.exec(r.annotations?.runbook_url ?? '');
    ok(anchor && runbookAnchors.has(anchor[1]), `${label}: ${r.alert} runbook ${r.annotations?.runbook_url} exists`);
  }
  // ServiceDown is "every replica down", or no target at all, for every service.
  const serviceDown = rules.find((r) => r.alert === 'ServiceDown');
  for (const name of Object.keys(OUR_SERVICES)) {
    ok(serviceDown?.expr.includes(`absent(up{job="${name}"})`), `${label}: ServiceDown covers ${name} with no target at all`);
  }
  const dashboards = byKind('ConfigMap').find((c) => c.metadata.name.startsWith('grafana-dashboards-'));
  const dashboard = JSON.parse(dashboards.data['pipeline-dashboard.json']);
  const exprs = [...allRules.map((r) => [`rule ${r.alert ?? r.record}`, r.expr]),
                 ...dashboard.panels.flatMap((p) => p.targets.map((t) => [`panel "${p.title}"`, t.expr]))];
  for (const [where, expr] of exprs) {
    for (const recorded of recordedNamesIn(expr)) {
      ok(records.has(recorded), `${label}: ${where} uses ${recorded}, which a recording rule makes`);
    }
    for (const metric of metricNamesIn(expr)) {
      ok(servicesSource.includes(`"${metric}"`) || servicesSource.includes(`"${metric}_bucket"`),
         `${label}: ${where} uses ${metric}, which a service exports`);
    }
  }
  for (const p of dashboard.panels) {
    for (const t of p.targets) {
      if (/\brate\(/.test(t.expr) && !/histogram_quantile/.test(t.expr)) {
        ok(!/\/\s*min/.test(t.legendFormat) && /\/s/.test(t.legendFormat + p.title),
           `${label}: panel "${p.title}" legend "${t.legendFormat}" says per second`);
      }
    }
  }
  const grafanaDs = byKind('ConfigMap').find((c) => c.metadata.name.startsWith('grafana-datasources-'));
  const dsUid = parseYaml(grafanaDs.data['datasources.yaml']).datasources[0].uid;
  ok(dashboard.panels.every((p) => p.datasource?.uid === dsUid), `${label}: every panel uses the provisioned datasource ${dsUid}`);

  // 9. Replicas: budgets, autoscalers, anti-affinity, the drain.
  const hpas = byKind('HorizontalPodAutoscaler');
  const pdbs = byKind('PodDisruptionBudget');
  const shutdownGrace = Number(config?.data?.ODD_SHUTDOWN_GRACE_S);
  const statementTimeout = Number(config?.data?.ODD_PG_STATEMENT_TIMEOUT_MS) / 1000;
  ok(Number.isInteger(shutdownGrace) && shutdownGrace > 0, `${label}: odd-config sets ODD_SHUTDOWN_GRACE_S`,
     config?.data?.ODD_SHUTDOWN_GRACE_S);
  for (const name of ['gateway', 'processor']) {
    ok(hpas.some((h) => h.spec.scaleTargetRef.name === name), `${label}: ${name} has a HorizontalPodAutoscaler`);
  }
  for (const h of hpas) {
    const name = `HorizontalPodAutoscaler/${h.metadata.name}`;
    const ref = h.spec.scaleTargetRef;
    const target = byKind(ref.kind).find((o) => o.metadata.name === ref.name);
    ok(ref.kind === 'Deployment' && ref.apiVersion === 'apps/v1' && target !== undefined,
       `${label}: ${name} targets the existing Deployment ${ref.name}`);
    ok(h.spec.minReplicas >= 2 && h.spec.maxReplicas >= h.spec.minReplicas,
       `${label}: ${name} keeps 2 to ${h.spec.maxReplicas} replicas`, `${h.spec.minReplicas}..${h.spec.maxReplicas}`);
    // An applied replica count would undo the autoscaler's at every `kubectl apply`.
    ok(target?.spec.replicas === undefined, `${label}: ${name}'s Deployment leaves the replica count to it`);
    for (const m of h.spec.metrics ?? []) {
      if (m.type === 'Resource') {
        const resource = m.resource.name;
        const missing = (target?.spec.template.spec.containers ?? []).filter((c) => !c.resources?.requests?.[resource]);
        ok(target && missing.length === 0 && m.resource.target.type === 'Utilization',
           `${label}: ${name} scales on ${resource} utilization of containers that request ${resource}`,
           missing.map((c) => c.name).join(', '));
      } else if (m.type === 'External') {
        // Something must serve the metric: prometheus-adapter's rules in this render.
        const metric = m.external.metric.name;
        const adapter = byKind('ConfigMap').find((c) => c.metadata.name.startsWith('prometheus-adapter-config'));
        const adapterRules = adapter ? parseYaml(adapter.data['config.yaml']).externalRules ?? [] : [];
        const rule = adapterRules.find((r) => r.name?.as === metric);
        ok(rule !== undefined, `${label}: ${name}'s external metric ${metric} is served by prometheus-adapter`,
           adapter ? `the adapter serves ${adapterRules.map((r) => r.name?.as).join(', ')}` : 'no prometheus-adapter in this render');
        for (const series of rule ? metricNamesIn(rule.seriesQuery + ' ' + rule.metricsQuery) : []) {
          ok(servicesSource.includes(`"${series}"`), `${label}: ${metric} comes from ${series}, which a service exports`);
        }
        const selector = m.external.metric.selector?.matchLabels ?? {};
        ok(rule && Object.entries(selector).every(([k, v]) => rule.seriesQuery.includes(`${k}="${v}"`)),
           `${label}: ${name}'s selector ${JSON.stringify(selector)} picks series the adapter queries`);
      } else {
        ok(false, `${label}: ${name} uses a ${m.type} metric, which nothing here provides`);
      }
    }
  }
  for (const svcName of Object.keys(OUR_SERVICES)) {
    const d = byKind('Deployment').find((o) => o.metadata.name === svcName);
    if (!d) continue;
    const pod = d.spec.template.spec;
    const podLabels = d.spec.template.metadata.labels;
    const replicas = minimumReplicas(d, hpas);
    ok(replicas >= 2, `${label}: ${svcName} runs at least 2 replicas`, replicas);

    // A budget that a drain can satisfy: at the least replica count, one pod may go.
    const budgets = pdbs.filter((b) => labelsMatch(b.spec.selector.matchLabels ?? {}, podLabels));
    ok(budgets.length === 1, `${label}: ${svcName} has one PodDisruptionBudget`, budgets.map((b) => b.metadata.name).join(', '));
    for (const b of budgets) {
      const allowed = b.spec.maxUnavailable !== undefined
        ? budgetCount(b.spec.maxUnavailable, replicas)
        : replicas - budgetCount(b.spec.minAvailable, replicas);
      ok(allowed >= 1, `${label}: PodDisruptionBudget ${b.metadata.name} lets a drain evict a ${svcName} pod at ${replicas} replicas`,
         `${allowed} disruptions allowed`);
      ok(labelsMatch(b.spec.selector.matchLabels, podLabels) &&
         byKind('Deployment').filter((o) => labelsMatch(b.spec.selector.matchLabels, o.spec.template.metadata.labels)).length === 1,
         `${label}: PodDisruptionBudget ${b.metadata.name} selects the ${svcName} pods only`);
    }

    // Replicas apart: a preferred anti-affinity by node, on the service's own pods.
    const terms = pod.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    const own = (sel) => sel?.matchLabels && labelsMatch(sel.matchLabels, podLabels) &&
      byKind('Deployment').filter((o) => labelsMatch(sel.matchLabels, o.spec.template.metadata.labels)).length === 1;
    ok(terms.some((t) => t.podAffinityTerm.topologyKey === 'kubernetes.io/hostname' && own(t.podAffinityTerm.labelSelector)),
       `${label}: ${svcName} prefers its replicas on different nodes (anti-affinity on its own pods)`);
    ok((pod.topologySpreadConstraints ?? []).every((c) => own(c.labelSelector) && c.whenUnsatisfiable === 'ScheduleAnyway'),
       `${label}: ${svcName}'s topology spread counts its own pods and never blocks scheduling`);

    // The drain: preStop sleep, then SIGTERM and at most the drain bound, inside the grace.
    const c = pod.containers[0];
    const sleep = c.lifecycle?.preStop?.exec?.command;
    const sleepSeconds = sleep?.[0] === 'sleep' ? Number(sleep[1]) : NaN;
    ok(sleepSeconds > 0, `${label}: ${svcName} sleeps before SIGTERM so the endpoints stop routing to it first`, JSON.stringify(sleep));
    const bound = Number(d.spec.template.metadata.annotations?.['odd.dev/drain-bound-seconds']);
    ok(bound >= shutdownGrace, `${label}: ${svcName}'s drain bound (${bound} s) covers ODD_SHUTDOWN_GRACE_S (${shutdownGrace} s)`);
    if ((c.env ?? []).some((e) => e.name === 'POSTGRES_URL')) {
      ok(bound >= statementTimeout, `${label}: ${svcName}'s drain bound (${bound} s) covers a PostgreSQL statement (${statementTimeout} s)`);
    }
    ok(pod.terminationGracePeriodSeconds >= sleepSeconds + bound,
       `${label}: ${svcName}'s grace period (${pod.terminationGracePeriodSeconds} s) covers the preStop sleep and the drain (${sleepSeconds} + ${bound} s)`);
    ok(d.spec.strategy?.rollingUpdate?.maxUnavailable === 0, `${label}: ${svcName} rolls out without going below its count`);
  }
}

console.log(`1..${n}`);
if (failed) console.log(`# ${failed} of ${n} checks failed`);
process.exit(failed ? 1 : 0);
