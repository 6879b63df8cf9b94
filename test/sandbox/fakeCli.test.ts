import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const SANDBOX = fileURLToPath(new URL('../../sandbox/', import.meta.url));
const BIN = path.join(SANDBOX, 'bin');
const COMPOSE = path.join(SANDBOX, 'compose.yml');
const SLOW = { timeout: 30_000 };

let dir: string;
let statePath: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-cli-'));
  statePath = path.join(dir, 'nested', 'state.json');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  return execa(path.join(BIN, cmd), args, { env: { SANDBOX_STATE: statePath, ...env }, reject: false, cwd: dir });
}
const readState = () => JSON.parse(fs.readFileSync(statePath, 'utf8'));
const writeState = (patch: object) => fs.writeFileSync(statePath, JSON.stringify({ ...readState(), ...patch }));
const calls = () => fs.readFileSync(`${statePath}.calls.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

describe('fake kubectl', () => {
  const jsonpath = '-o=jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision} {.spec.template.spec.containers[0].image}';
  const deployed = async () => (await run('kubectl', ['get', 'deployment', 'ml-analyze', jsonpath])).stdout;

  it('shows history and rolls back to the previous revision as a new revision', SLOW, async () => {
    const history = await run('kubectl', ['rollout', 'history', 'deployment/ml-analyze']);
    expect(history.exitCode).toBe(0);
    expect(history.stdout).toMatch(/REVISION\s+CHANGE-CAUSE\n1 .*\n2 .*\n3 /);
    expect(await deployed()).toBe('3 registry.local/ml-analyze:1.5.0');

    const undo = await run('kubectl', ['--context', 'sandbox', '-n', 'default', 'rollout', 'undo', 'deployment/ml-analyze']);
    expect(undo.stdout).toBe('deployment.apps/ml-analyze rolled back');
    expect(await deployed()).toBe('4 registry.local/ml-analyze:1.4.1');
    const after = (await run('kubectl', ['rollout', 'history', 'deployment/ml-analyze'])).stdout;
    expect([...after.matchAll(/^(\d+) /gm)].map((m) => m[1])).toEqual(['1', '3', '4']);

    const status = await run('kubectl', ['rollout', 'status', 'deployment/ml-analyze', '--timeout=120s']);
    expect(status.stdout).toContain('successfully rolled out');
    expect(calls()).toHaveLength(6);
    expect(calls()[2]).toMatchObject({ cmd: 'kubectl', argv: ['--context', 'sandbox', '-n', 'default', 'rollout', 'undo', 'deployment/ml-analyze'] });
  });

  it('rolls back to a given revision, and rejects an unknown one without changing anything', SLOW, async () => {
    const bad = await run('kubectl', ['rollout', 'undo', 'deployment/ml-analyze', '--to-revision=9']);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toBe('error: unable to find specified revision 9 in history');
    expect(await deployed()).toBe('3 registry.local/ml-analyze:1.5.0');

    const ok = await run('kubectl', ['rollout', 'undo', 'deployment/ml-analyze', '--to-revision=1']);
    expect(ok.exitCode).toBe(0);
    expect(await deployed()).toBe('4 registry.local/ml-analyze:1.3.0');
  });

  it('undoNoop: undo prints success and exits 0 but nothing changes (verify the outcome)', SLOW, async () => {
    await run('kubectl', ['version', '--client']);
    writeState({ undoNoop: true });
    const undo = await run('kubectl', ['rollout', 'undo', 'deployment/ml-analyze', '--to-revision=2']);
    expect(undo.exitCode).toBe(0);
    expect(undo.stdout).toBe('deployment.apps/ml-analyze rolled back');
    expect(await deployed()).toBe('3 registry.local/ml-analyze:1.5.0');
  });

  it('answers NotFound for another namespace and prints the deployment as JSON', SLOW, async () => {
    const other = await run('kubectl', ['-n', 'prod', 'get', 'deployment', 'ml-analyze']);
    expect(other.exitCode).toBe(1);
    expect(other.stderr).toContain('NotFound');
    const json = JSON.parse((await run('kubectl', ['get', 'deployment', 'ml-analyze', '-o', 'json'])).stdout);
    expect(json.metadata.annotations['deployment.kubernetes.io/revision']).toBe('3');
    expect(json.spec.template.spec.containers[0].image).toBe('registry.local/ml-analyze:1.5.0');
  });
});

describe('fake docker compose / docker-compose', () => {
  const image = async () => {
    const ps = await run('docker', ['compose', '-f', COMPOSE, 'ps', '--all', '--format', 'json', 'ml-analyze']);
    return JSON.parse(ps.stdout) as { Image: string; State: string };
  };

  it('up with a tag that is not in the registry fails like docker and leaves the container alone', SLOW, async () => {
    const up = await run('docker', ['compose', '-f', COMPOSE, 'up', '-d', '--no-build', 'ml-analyze'], { ML_ANALYZE_TAG: '9.9.9' });
    expect(up.exitCode).not.toBe(0);
    expect(up.stderr).toContain('manifest for registry.local/ml-analyze:9.9.9 not found');
    expect(await image()).toMatchObject({ Image: 'registry.local/ml-analyze:1.5.0', State: 'running' });
  });

  it('stop then up -d --no-build with ML_ANALYZE_TAG switches the image (v2 and v1 share state)', SLOW, async () => {
    expect((await run('docker-compose', ['-f', COMPOSE, 'stop', 'ml-analyze'])).stderr).toContain('Stopping sandbox_ml-analyze_1 ... done');
    expect(await image()).toMatchObject({ State: 'exited' });

    const up = await run('docker', ['compose', '-f', COMPOSE, '-p', 'sandbox', 'up', '-d', '--no-build', 'ml-analyze'], { ML_ANALYZE_TAG: '1.4.1' });
    expect(up.exitCode).toBe(0);
    expect(up.stderr).toContain('Container sandbox-ml-analyze-1  Started');
    expect(await image()).toMatchObject({ Image: 'registry.local/ml-analyze:1.4.1', State: 'running' });

    const images = await run('docker-compose', ['-f', COMPOSE, 'images', 'ml-analyze']);
    expect(images.stdout).toMatch(/registry\.local\/ml-analyze\s+1\.4\.1/);
    const upCall = calls().find((c) => c.argv.includes('up'));
    expect(upCall).toMatchObject({ cmd: 'docker', env: { ML_ANALYZE_TAG: '1.4.1' } });
  });

  it('rejects the runbook\'s `pull ml-analyze:previous-tag` (pull takes services)', SLOW, async () => {
    const pull = await run('docker-compose', ['-f', COMPOSE, 'pull', 'ml-analyze:previous-tag']);
    expect(pull.exitCode).toBe(1);
    expect(pull.stderr).toBe('ERROR: No such service: ml-analyze:previous-tag');
  });
});
