import type { Deps, StepSpec } from '../types.js';

export const seconds = (s: number) => s * 1000;

export function checklistStep(deps: Deps): StepSpec {
  const { mlAnalyze, bunApi, frontend } = deps.serviceUrls;
  return {
    id: 'health-checklist',
    kind: 'checklist',
    title: 'Health verification checklist',
    risk: 'read-only',
    idempotent: true,
    timeoutMs: seconds(30),
    params: { queueSampleMs: 2000 },
    shows: [
      `GET ${mlAnalyze}/health, GET ${bunApi}/health, GET ${frontend}/health`,
      'SELECT 1 (marketbel database)',
      'PING (ML-Analyze Redis)',
      `queue length of ${deps.config.targets.redis.queueKeys.join(', ') || '(none)'} sampled twice`,
    ],
  };
}

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
