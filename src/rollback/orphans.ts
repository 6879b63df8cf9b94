import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import type { ChildRecord } from '../store/store.js';
import { signalGroup } from './exec.js';

/**
 * Ends the process groups a dead worker's step left behind on this host, so a re-run never races
 * the old one. A group is ended only while its leader still runs the program that was recorded:
 * a recycled pid belongs to someone else and is left alone.
 */
export function endOrphans(children: readonly ChildRecord[], host = hostname()): ChildRecord[] {
  const ended: ChildRecord[] = [];
  for (const c of children) {
    if (c.host !== host || !Number.isInteger(c.pgid) || c.pgid <= 1) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${c.pgid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    const argv0 = cmdline.split('\0')[0] ?? '';
    const wanted = path.basename(c.file);
    if (argv0 !== c.file && path.basename(argv0) !== wanted && !cmdline.includes(`/${wanted}\0`)) continue;
    signalGroup(c.pgid, 'SIGKILL');
    ended.push(c);
  }
  return ended;
}
