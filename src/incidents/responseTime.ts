import type { FileConfig } from '../config/file.js';
import type { Severity } from './types.js';

/** The runbook's response times; P4 is "next business day", computed from business hours. */
export const RESPONSE_SECONDS: Record<Exclude<Severity, 'P4'>, number> = { P1: 15 * 60, P2: 60 * 60, P3: 4 * 60 * 60 };

export const RESPONSE_LABEL: Record<Severity, string> = { P1: '15 min', P2: '1 h', P3: '4 h', P4: 'next business day' };

type IncidentConfig = FileConfig['incidents'];

/** When a reminder is due if nothing is updated after `from`. */
export function reminderDue(severity: Severity, from: Date, cfg: IncidentConfig): Date {
  if (severity === 'P4') return nextBusinessDayStart(from, cfg.businessHours);
  const seconds = cfg.responseSeconds[severity] ?? RESPONSE_SECONDS[severity];
  return new Date(from.getTime() + seconds * 1000);
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  weekday: number;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function localParts(at: Date, timeZone: string): LocalParts {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric', weekday: 'short' }).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return { year: Number(get('year')), month: Number(get('month')), day: Number(get('day')), weekday: WEEKDAYS.indexOf(get('weekday')) };
}

/** Milliseconds the zone is ahead of UTC at `at`. */
function zoneOffsetMs(at: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
  }).formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - Math.floor(at.getTime() / 1000) * 1000;
}

/** The instant a wall-clock time occurs in a zone (twice-corrected for DST edges). */
function zonedInstant(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): Date {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  let guess = wall - zoneOffsetMs(new Date(wall), timeZone);
  guess = wall - zoneOffsetMs(new Date(guess), timeZone);
  return new Date(guess);
}

/** The opening of the first business day after the day `from` falls on, in the configured zone. */
export function nextBusinessDayStart(from: Date, hours: IncidentConfig['businessHours']): Date {
  const [h, m] = hours.start.split(':').map(Number) as [number, number];
  const today = localParts(from, hours.timeZone);
  for (let add = 1; add <= 8; add++) {
    const d = new Date(Date.UTC(today.year, today.month - 1, today.day + add));
    if (hours.days.includes(d.getUTCDay())) return zonedInstant(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), h, m, hours.timeZone);
  }
  return new Date(from.getTime() + 24 * 3600_000);
}
