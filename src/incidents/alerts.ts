import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Severity } from './types.js';

/**
 * Prometheus Alertmanager's webhook payload, version "4". Unknown fields are accepted (the format
 * grows); what we rely on is checked, so a malformed body is refused before anything changes.
 */
const labels = z.record(z.string(), z.string());
const AlertSchema = z.looseObject({
  status: z.enum(['firing', 'resolved']),
  labels,
  annotations: labels.default({}),
  startsAt: z.string().optional(),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().max(200).optional(),
});
export const AlertmanagerPayloadSchema = z.looseObject({
  version: z.string(),
  groupKey: z.string().min(1).max(10_000),
  truncatedAlerts: z.number().int().min(0).optional(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().optional(),
  groupLabels: labels.default({}),
  commonLabels: labels.default({}),
  commonAnnotations: labels.default({}),
  externalURL: z.string().optional(),
  alerts: z.array(AlertSchema).max(1000),
});
export type AlertmanagerPayload = z.infer<typeof AlertmanagerPayloadSchema>;
export type Alert = z.infer<typeof AlertSchema>;

/** The runbook's "Monitoring Alerts", by default alert name. */
export const DEFAULT_ALERT_SEVERITY: Readonly<Record<string, Severity>> = {
  MLAnalyzeHealthCheckFailing: 'P1',
  MLAnalyzeDBPoolExhausted: 'P1',
  MLAnalyzeHighErrorRate: 'P2',
  MLAnalyzeHighLatencyP95: 'P2',
  MLAnalyzeHighMemory: 'P3',
};
/** An alert nobody mapped is treated as "non-critical feature broken" until a person says otherwise. */
export const UNMAPPED_SEVERITY: Severity = 'P3';

const SEVERITIES: readonly Severity[] = ['P1', 'P2', 'P3', 'P4'];

/**
 * One alert's severity: an explicit `severity: P1…P4` label wins; then the configured map by
 * alert name, then by `label=value` keys; then the runbook defaults.
 */
export function alertSeverity(alert: Pick<Alert, 'labels'>, map: Readonly<Record<string, Severity>>): Severity {
  const label = alert.labels.severity?.toUpperCase();
  if (label && (SEVERITIES as readonly string[]).includes(label)) return label as Severity;
  const name = alert.labels.alertname ?? '';
  if (map[name]) return map[name];
  for (const [key, sev] of Object.entries(map)) {
    const eq = key.indexOf('=');
    if (eq > 0 && alert.labels[key.slice(0, eq)] === key.slice(eq + 1)) return sev;
  }
  return DEFAULT_ALERT_SEVERITY[name] ?? UNMAPPED_SEVERITY;
}

/** The most severe of a group's firing alerts (P1 beats P2…). */
export function groupSeverity(alerts: ReadonlyArray<Pick<Alert, 'labels'>>, map: Readonly<Record<string, Severity>>): Severity {
  const found = alerts.map((a) => alertSeverity(a, map));
  return SEVERITIES.find((s) => found.includes(s)) ?? UNMAPPED_SEVERITY;
}

/** groupKey holds quotes and braces: hash it for keys, ids and Slack block ids. */
export const groupHash = (groupKey: string) => createHash('sha256').update(groupKey).digest('hex').slice(0, 32);

/** A stable identity for an alert within its group (Alertmanager sends a fingerprint; older ones may not). */
export const alertIdentity = (a: Alert) => a.fingerprint ?? createHash('sha256').update(JSON.stringify(Object.entries(a.labels).sort())).digest('hex').slice(0, 16);

export const alertTitle = (a: Pick<Alert, 'labels' | 'annotations'>) => {
  const name = a.labels.alertname ?? 'alert';
  const summary = a.annotations.summary ?? a.annotations.description;
  return (summary ? `${name}: ${summary}` : name).slice(0, 300);
};
