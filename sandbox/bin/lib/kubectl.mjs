// Fake kubectl for one Deployment. Revisions behave like the real controller:
// an undo re-applies an old template as a NEW revision (max + 1) and that old
// revision number disappears from the history.
import YAML from 'yaml';
import { fail, loadState, recordCall, saveState } from './state.mjs';

const argv = process.argv.slice(2);
recordCall('kubectl', argv);

// Global and command flags may appear anywhere; `--flag=v` and `--flag v` both work.
const flags = {};
const words = [];
const VALUED = ['--context', '-n', '--namespace', '--kubeconfig', '--request-timeout', '-o', '--output', '--to-revision', '--revision', '--timeout'];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const eq = a.indexOf('=');
  const name = a.startsWith('-') && eq > 0 ? a.slice(0, eq) : a;
  if (a.startsWith('-o') && !a.startsWith('--') && a.length > 2 && eq !== 2) flags['-o'] = a.slice(2); // -ojson
  else if (eq > 0 && VALUED.includes(name)) flags[name] = a.slice(eq + 1);
  else if (VALUED.includes(a)) flags[a] = argv[++i] ?? fail(`error: flag needs an argument: ${a}`);
  else if (a.startsWith('-')) flags[a] = true;
  else words.push(a);
}
const namespace = flags['-n'] ?? flags['--namespace'] ?? 'default';
const output = flags['-o'] ?? flags['--output'];
const state = loadState();
const d = state.deployment;

function main() {
  const [cmd, sub, ...rest] = words;
  if (cmd === 'version') console.log('Client Version: v1.29.2\nKustomize Version: v5.0.4-0.20230601165947-6ce0bf390ce3');
  else if (cmd === 'config' && sub === 'current-context') console.log(flags['--context'] ?? state.context ?? 'sandbox');
  else if (cmd === 'rollout' && ['history', 'undo', 'status'].includes(sub)) {
    findDeployment(rest);
    ({ history, undo, status })[sub]();
  } else if (cmd === 'get' && /^(deployments?|deploy)(\.apps)?(\/|$)/.test(sub ?? '')) get([sub, ...rest]);
  else fail(`error: unknown command "${[cmd, sub].filter(Boolean).join(' ')}" for "kubectl"`);
}

// Accepts `deployment/NAME`, `deploy/NAME`, `deployment.apps/NAME` or `deployment NAME`.
function findDeployment(args) {
  const [kind, name] = args[0]?.includes('/') ? args[0].split('/') : [args[0], args[1]];
  if (!/^(deployments?|deploy)(\.apps)?$/.test(kind ?? '')) fail(`error: the server doesn't have a resource type "${kind ?? ''}"`);
  if (!name) fail('error: required resource not specified');
  if (name !== d.name || namespace !== d.namespace) fail(`Error from server (NotFound): deployments.apps "${name}" not found`);
}

function current() {
  return d.history.find((r) => r.revision === d.revision);
}

function hash(image) {
  return [...image].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) >>> 0, 7).toString(16).padStart(8, '0');
}

function history() {
  const wanted = flags['--revision'];
  if (wanted !== undefined && wanted !== '0') {
    const r = d.history.find((x) => x.revision === Number(wanted));
    if (!r) fail('error: unable to find the specified revision');
    console.log(`deployment.apps/${d.name} with revision #${r.revision}`);
    console.log(`Pod Template:\n  Labels:\tapp=${d.name}\n\tpod-template-hash=${hash(r.image)}`);
    console.log(`  Annotations:\tkubernetes.io/change-cause: ${r.changeCause ?? '<none>'}`);
    console.log(`  Containers:\n   ${d.name}:\n    Image:\t${r.image}\n    Port:\t8001/TCP\n    Host Port:\t0/TCP`);
    console.log('    Environment:\t<none>\n    Mounts:\t<none>\n  Volumes:\t<none>\n');
    return;
  }
  console.log(`deployment.apps/${d.name} \nREVISION  CHANGE-CAUSE`);
  for (const r of [...d.history].sort((a, b) => a.revision - b.revision)) console.log(`${String(r.revision).padEnd(10)}${r.changeCause ?? '<none>'}`);
  console.log('');
}

function undo() {
  const to = Number(flags['--to-revision'] ?? 0);
  const older = d.history.filter((r) => r.revision !== d.revision).sort((a, b) => b.revision - a.revision);
  const target = to ? d.history.find((r) => r.revision === to) : older[0];
  if (to && !target) fail(`error: unable to find specified revision ${to} in history`);
  if (!target) fail(`error: no rollout history found for deployment "${d.name}"`);
  // The trap: exit 0 and the usual message, yet nothing changed.
  if (state.undoNoop) return console.log(`deployment.apps/${d.name} rolled back`);
  if (target.image === current()?.image) {
    return console.log(`deployment.apps/${d.name} skipped rollback (current template already matches revision ${target.revision})`);
  }
  const revision = Math.max(...d.history.map((r) => r.revision)) + 1;
  d.history = [...d.history.filter((r) => r !== target), { ...target, revision }];
  d.revision = revision;
  saveState(state);
  console.log(`deployment.apps/${d.name} rolled back`);
}

function status() {
  if (state.rolloutStuck) {
    console.log(`Waiting for deployment "${d.name}" rollout to finish: 1 of ${d.replicas} updated replicas are available...`);
    fail('error: timed out waiting for the condition');
  }
  console.log(`deployment "${d.name}" successfully rolled out`);
}

function manifest() {
  const labels = { app: d.name };
  const replicas = { replicas: d.replicas, updatedReplicas: d.replicas, readyReplicas: d.replicas, availableReplicas: d.replicas };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: d.name, namespace: d.namespace, generation: d.revision, labels, annotations: { 'deployment.kubernetes.io/revision': String(d.revision) } },
    spec: {
      replicas: d.replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: d.name, image: current()?.image, ports: [{ containerPort: 8001, protocol: 'TCP' }] }] } },
    },
    status: { observedGeneration: d.revision, ...replicas, conditions: [{ type: 'Available', status: 'True' }, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }] },
  };
}

function get(args) {
  const listAll = !args[0].includes('/') && args.length === 1;
  if (!listAll) findDeployment(args);
  else if (namespace !== d.namespace) return console.error(`No resources found in ${namespace} namespace.`);
  const obj = manifest();
  if (!output) {
    console.log('NAME'.padEnd(13) + 'READY   UP-TO-DATE   AVAILABLE   AGE');
    return console.log(`${d.name.padEnd(13)}${`${d.replicas}/${d.replicas}`.padEnd(8)}${String(d.replicas).padEnd(13)}${String(d.replicas).padEnd(12)}12d`);
  }
  if (output === 'json') return console.log(JSON.stringify(listAll ? { apiVersion: 'v1', kind: 'List', items: [obj] } : obj, null, 4));
  if (output === 'yaml') return process.stdout.write(YAML.stringify(obj));
  if (output === 'name') return console.log(`deployment.apps/${d.name}`);
  if (output.startsWith('jsonpath=')) return process.stdout.write(jsonpath(output.slice(9), obj));
  fail(`error: unable to match a printer suitable for the output format "${output}"`);
}

// The jsonpath subset scripts use: {.a.b}, {.a[0].b}, escaped dots (\.), and {"literal"}.
function jsonpath(template, obj) {
  return template.replace(/\{([^}]*)\}/g, (_, expr) => {
    if (expr.startsWith('"')) return JSON.parse(expr);
    let v = obj;
    for (const part of expr.replace(/^\./, '').match(/(?:\\.|[^.[\]])+|\[\d+\]/g) ?? []) {
      const key = part.startsWith('[') ? Number(part.slice(1, -1)) : part.replace(/\\\./g, '.');
      if (v == null || !(key in Object(v))) fail(`error: error executing jsonpath "${template}": Error executing template: ${String(key)} is not found.`);
      v = v[key];
    }
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
}

main();
