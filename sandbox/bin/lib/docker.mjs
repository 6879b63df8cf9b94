// Fake `docker compose` (v2) and `docker-compose` (v1). Reads the real compose
// file (image tags come from its ${VAR:-default} interpolation, as with docker)
// and keeps container state in the sandbox state file.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ago, fail, loadState, recordCall, saveState } from './state.mjs';

const [tool, ...argv] = process.argv.slice(2);
const v1 = tool === 'docker-compose';

function main() {
  recordCall(tool, argv);
  if (v1) compose(argv);
  else if (argv[0] === 'compose') compose(argv.slice(1));
  else if (argv[0] === '--version' || argv[0] === 'version') console.log('Docker version 24.0.7, build afdd53b');
  else fail(`docker: '${argv[0] ?? ''}' is not a docker command.\nSee 'docker --help'`);
}

function takeValue(args, i, flag) {
  const a = args[i];
  if (a.startsWith(`${flag}=`)) return [a.slice(flag.length + 1), i];
  if (i + 1 >= args.length) fail(`flag needs an argument: ${flag}`);
  return [args[i + 1], i + 1];
}

function compose(args) {
  const files = [];
  let project;
  let i = 0;
  for (; i < args.length && args[i].startsWith('-'); i++) {
    const flag = args[i].split('=')[0];
    if (!['-f', '--file', '-p', '--project-name', '--env-file', '--project-directory', '--ansi', '--progress', '--profile'].includes(flag)) {
      fail(`unknown flag: ${args[i]}`);
    }
    const [value, next] = takeValue(args, i, flag);
    if (flag === '-f' || flag === '--file') files.push(value);
    if (flag === '-p' || flag === '--project-name') project = value;
    i = next;
  }
  const [cmd, ...rest] = args.slice(i);
  if (cmd === 'version') return console.log(v1 ? 'docker-compose version 1.29.2, build unknown' : 'Docker Compose version v2.24.6');

  const ctx = loadProject(files, project);
  const handlers = { stop, up, ps, images, pull };
  if (!handlers[cmd]) fail(v1 ? `No such command: ${cmd}` : `unknown docker command: "compose ${cmd ?? ''}"`);
  handlers[cmd](ctx, rest);
}

function loadProject(files, project) {
  if (files.length === 0 && process.env.COMPOSE_FILE) files.push(...process.env.COMPOSE_FILE.split(':'));
  if (files.length === 0) {
    const found = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'].find((f) => fs.existsSync(f));
    if (!found) fail(v1 ? "Can't find a suitable configuration file in this directory or any parent. Are you in the right directory?" : 'no configuration file provided: not found');
    files.push(found);
  }
  const services = {};
  let name;
  for (const f of files) {
    if (!fs.existsSync(f)) fail(v1 ? `.IOError: [Errno 2] No such file or directory: '${f}'` : `open ${path.resolve(f)}: no such file or directory`);
    const doc = YAML.parse(fs.readFileSync(f, 'utf8')) ?? {};
    name ??= doc.name;
    Object.assign(services, doc.services ?? {});
  }
  project ??= process.env.COMPOSE_PROJECT_NAME ?? name ?? path.basename(path.dirname(path.resolve(files[0])));
  project = project.toLowerCase().replace(/[^a-z0-9_-]/g, '');
  const state = loadState();
  return { project, services, state };
}

// ${VAR}, ${VAR:-default}, ${VAR-default}: the subset of compose interpolation the fixture uses.
function interpolate(s) {
  return String(s).replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}/g, (_, name, op, def) => {
    const v = process.env[name];
    if (op === ':-') return v ? v : def;
    if (op === '-') return v ?? def;
    return v ?? '';
  });
}

const containerName = (ctx, svc) => (v1 ? `${ctx.project}_${svc}_1` : `${ctx.project}-${svc}-1`);
const splitImage = (ref) => {
  const at = ref.lastIndexOf(':');
  return at > ref.lastIndexOf('/') ? [ref.slice(0, at), ref.slice(at + 1)] : [ref, 'latest'];
};

function targets(ctx, names) {
  for (const n of names) if (!ctx.services[n]) fail(v1 ? `ERROR: No such service: ${n}` : `no such service: ${n}`);
  return names.length ? names : Object.keys(ctx.services);
}

function pullable(ctx, ref) {
  const [repo, tag] = splitImage(ref);
  const known = ctx.state.knownTags[repo];
  return !known || known.includes(tag);
}

function manifestError(svc, ref) {
  const msg = `manifest for ${ref} not found: manifest unknown: manifest unknown`;
  fail(v1 ? `Pulling ${svc} (${ref})...\nERROR: ${msg}` : ` ${svc} Pulling \n ${svc} Error ${msg}\nError response from daemon: ${msg}`);
}

// Both versions report progress on stderr: v2 one line per step, v1 one line per container.
function progress(ctx, svc, v1Verb, ...v2Steps) {
  const name = containerName(ctx, svc);
  if (v1) process.stderr.write(`${v1Verb} ${name} ... done\n`);
  else for (const step of v2Steps) process.stderr.write(` Container ${name}  ${step}\n`);
}

function stop(ctx, args) {
  for (const svc of targets(ctx, args.filter((a) => !a.startsWith('-')))) {
    const c = ctx.state.compose[svc];
    if (!c || c.state !== 'running') continue;
    progress(ctx, svc, 'Stopping', 'Stopping', 'Stopped');
    Object.assign(c, { state: 'exited', exitedAt: new Date().toISOString() });
  }
  saveState(ctx.state);
}

function up(ctx, args) {
  const valued = ['-t', '--timeout', '--pull', '--scale', '--wait-timeout'];
  const names = args.filter((a, i) => !a.startsWith('-') && !valued.includes(args[i - 1]));
  const list = targets(ctx, names);
  // Resolve every image first: docker pulls before touching any container.
  const wanted = Object.fromEntries(list.map((svc) => [svc, interpolate(ctx.services[svc].image ?? `${ctx.project}-${svc}`)]));
  for (const svc of list) if (ctx.state.compose[svc]?.image !== wanted[svc] && !pullable(ctx, wanted[svc])) manifestError(svc, wanted[svc]);
  const now = new Date().toISOString();
  for (const svc of list) {
    const c = ctx.state.compose[svc];
    if (c && c.image === wanted[svc] && c.state === 'running') {
      process.stderr.write(v1 ? `${containerName(ctx, svc)} is up-to-date\n` : ` Container ${containerName(ctx, svc)}  Running\n`);
      continue;
    }
    if (!c) progress(ctx, svc, 'Creating', 'Creating', 'Created', 'Starting', 'Started');
    else if (c.image !== wanted[svc]) progress(ctx, svc, 'Recreating', 'Recreate', 'Recreated', 'Starting', 'Started');
    else progress(ctx, svc, 'Starting', 'Starting', 'Started');
    const createdAt = c && c.image === wanted[svc] ? c.createdAt : now;
    ctx.state.compose[svc] = { image: wanted[svc], state: 'running', createdAt, startedAt: now };
  }
  saveState(ctx.state);
}

function pull(ctx, args) {
  for (const svc of targets(ctx, args.filter((a) => !a.startsWith('-')))) {
    const ref = interpolate(ctx.services[svc].image ?? '');
    if (!pullable(ctx, ref)) manifestError(svc, ref);
    process.stderr.write(v1 ? `Pulling ${svc} ... done\n` : ` ${svc} Pulled \n`);
  }
}

function containers(ctx, args, all) {
  const names = args.filter((a, i) => !a.startsWith('-') && args[i - 1] !== '--format');
  return targets(ctx, names)
    .filter((svc) => ctx.state.compose[svc] && (all || ctx.state.compose[svc].state === 'running'))
    .map((svc) => ({ svc, ...ctx.state.compose[svc] }));
}

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  for (const r of rows) console.log(r.map((c, i) => String(c).padEnd(widths[i] + 3)).join('').trimEnd());
}

function ps(ctx, args) {
  const list = containers(ctx, args, v1 || args.includes('-a') || args.includes('--all'));
  const status = (c) => (c.state === 'running' ? `Up ${ago(c.startedAt)}` : `Exited (0) ${ago(c.exitedAt ?? c.startedAt)} ago`);
  const ports = (svc) => (ctx.services[svc].ports ?? []).map((p) => `0.0.0.0:${String(p).replace(/:/, '->')}/tcp`).join(', ');
  const command = (svc) => `"${String(ctx.services[svc].command ?? '/entrypoint.sh').slice(0, 20)}"`;
  if (formatJson(args)) {
    for (const c of list) {
      const name = containerName(ctx, c.svc);
      console.log(JSON.stringify({ Name: name, Image: c.image, Command: command(c.svc), Project: ctx.project, Service: c.svc, State: c.state, Status: status(c), ExitCode: 0, Publishers: [] }));
    }
    return;
  }
  if (v1) table([['Name', 'Command', 'State', 'Ports'], ...list.map((c) => [containerName(ctx, c.svc), command(c.svc), c.state === 'running' ? 'Up' : 'Exit 0', ports(c.svc)])]);
  else table([['NAME', 'IMAGE', 'COMMAND', 'SERVICE', 'CREATED', 'STATUS', 'PORTS'], ...list.map((c) => [containerName(ctx, c.svc), c.image, command(c.svc), c.svc, `${ago(c.createdAt)} ago`, status(c), ports(c.svc)])]);
}

function images(ctx, args) {
  const rows = containers(ctx, args, true).map((c) => {
    const [repo, tag] = splitImage(c.image);
    const id = createHash('sha256').update(c.image).digest('hex').slice(0, 12);
    return { ContainerName: containerName(ctx, c.svc), Repository: repo, Tag: tag, ID: id, Size: '1.21GB' };
  });
  if (formatJson(args)) return console.log(JSON.stringify(rows));
  table([v1 ? ['Container', 'Repository', 'Tag', 'Image Id', 'Size'] : ['CONTAINER', 'REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE'], ...rows.map(Object.values)]);
}

function formatJson(args) {
  const i = args.findIndex((a) => a === '--format' || a.startsWith('--format='));
  return i >= 0 && (args[i] === '--format=json' || args[i + 1] === 'json');
}

main();
