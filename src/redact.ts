/**
 * Secrets must never reach Slack, logs, the audit trail or error text. Redaction is applied to any
 * free text (child process output, error messages) before it leaves the process.
 */
const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  // user:password@ in any URL (postgres://, redis://, https://)
  [/([a-z][a-z0-9+.-]*:\/\/)([^\s:/@]*):([^\s@/]+)@/gi, '$1$2:[REDACTED]@'],
  // Slack tokens
  [/\bxox[abposr]-[A-Za-z0-9-]+/g, '[REDACTED]'],
  [/\bxapp-[A-Za-z0-9-]+/g, '[REDACTED]'],
  // Authorization headers and key=value secrets
  [/\b(Bearer)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [REDACTED]'],
  [/\b(password|passwd|pwd|secret|token|api[_-]?key)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&]+)/gi, '$1$2[REDACTED]'],
  [/(\s-a\s+)(\S+)/g, '$1[REDACTED]'],
];

const extraSecrets = new Set<string>();

/** Register literal secrets (from configuration) so they are masked wherever they appear. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 6) extraSecrets.add(value);
}

/** Redacts every string inside a JSON-like value (audit details), keeping its shape. */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactDeep(v)) as T;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v)])) as T;
  }
  return value;
}

export function redact(text: string): string {
  let out = text;
  for (const secret of extraSecrets) out = out.split(secret).join('[REDACTED]');
  for (const [re, rep] of PATTERNS) out = out.replace(re, rep);
  return out;
}
