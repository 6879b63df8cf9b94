// Shared by the fake docker / docker-compose / kubectl: one JSON state file
// (SANDBOX_STATE, default sandbox/.state/state.json) so that calls observe each
// other's effects, plus an append-only log of every argv for tests to assert on.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const sandboxDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const statePath = process.env.SANDBOX_STATE || path.join(sandboxDir, '.state', 'state.json');

const HOUR = 3600_000;

function defaultState() {
  const started = new Date(Date.now() - 2 * HOUR).toISOString();
  const container = (image) => ({ image, state: 'running', createdAt: started, startedAt: started });
  return {
    // Tags that "exist in the registry"; pulling any other fails like docker does.
    knownTags: {
      'registry.local/ml-analyze': ['1.3.0', '1.4.0', '1.4.1', '1.5.0', 'latest'],
      'registry.local/bun-api': ['2.3.1', 'latest'],
      'registry.local/frontend': ['2.3.1', 'latest'],
    },
    compose: {
      'ml-analyze': container('registry.local/ml-analyze:1.5.0'),
      'bun-api': container('registry.local/bun-api:2.3.1'),
      frontend: container('registry.local/frontend:2.3.1'),
    },
    deployment: {
      name: 'ml-analyze',
      namespace: 'default',
      replicas: 2,
      revision: 3,
      history: [
        { revision: 1, image: 'registry.local/ml-analyze:1.3.0', changeCause: 'deploy ml-analyze 1.3.0' },
        { revision: 2, image: 'registry.local/ml-analyze:1.4.1', changeCause: 'deploy ml-analyze 1.4.1' },
        { revision: 3, image: 'registry.local/ml-analyze:1.5.0', changeCause: 'deploy ml-analyze 1.5.0 (Phase 7)' },
      ],
    },
    // Failure modes: undo reports success but changes nothing; rollout status times out.
    undoNoop: false,
    rolloutStuck: false,
  };
}

export function loadState() {
  const defaults = defaultState();
  try {
    return { ...defaults, ...JSON.parse(fs.readFileSync(statePath, 'utf8')) };
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
    saveState(defaults);
    return defaults;
  }
}

export function saveState(state) {
  fs.mkdirSync(path.dirname(statePath), { recursive: true });
  const tmp = `${statePath}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  fs.renameSync(tmp, statePath); // atomic: a concurrent reader never sees half a file
}

export function recordCall(cmd, argv) {
  fs.mkdirSync(path.dirname(statePath), { recursive: true });
  // Only *_TAG variables are kept: they carry the image choice, never secrets.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.endsWith('_TAG')));
  const line = JSON.stringify({ ts: new Date().toISOString(), cmd, argv, cwd: process.cwd(), env });
  fs.appendFileSync(`${statePath}.calls.jsonl`, line + '\n');
}

export function fail(message, code = 1) {
  process.stderr.write(message.endsWith('\n') ? message : message + '\n');
  process.exit(code);
}

export function ago(iso) {
  const s = Math.max(1, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} seconds`;
  if (s < 3600) return `${Math.round(s / 60)} minutes`;
  if (s < 86400) return `${Math.round(s / 3600)} hours`;
  return `${Math.round(s / 86400)} days`;
}
