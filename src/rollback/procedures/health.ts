import type { Deps, StepSpec } from '../types.js';
import { seconds } from './common.js';

/** How long a service gets to come back: the configured step timeout (targets have no other clock). */
export const healthWaitMs = (deps: Deps) => seconds(deps.config.steps.timeoutSeconds);

export function waitHealthyStep(deps: Deps, id = 'wait-ml-analyze-healthy'): StepSpec {
  const url = `${deps.serviceUrls.mlAnalyze}/health`;
  const waitMs = healthWaitMs(deps);
  return {
    id,
    kind: 'wait-healthy',
    title: `Wait for ML-Analyze to answer 200 on /health (up to ${Math.round(waitMs / 1000)} s)`,
    risk: 'read-only',
    idempotent: true,
    timeoutMs: waitMs + seconds(15),
    params: { name: 'ML-Analyze', url, waitMs, intervalMs: 1000 },
    shows: [`GET ${url} every 1 s until 200`],
  };
}

/** The services that must stay healthy while ML-Analyze is rolled back; a failure stops the run. */
export function healthGateStep(deps: Deps, id: string, after: string): StepSpec {
  const { bunApi, frontend } = deps.serviceUrls;
  return {
    id,
    kind: 'health-gate',
    title: `Health gate after ${after}: bun-api, frontend, SELECT 1, Redis PING`,
    risk: 'read-only',
    idempotent: true,
    timeoutMs: seconds(30),
    params: { urls: [{ name: 'bun-api', url: `${bunApi}/health` }, { name: 'frontend', url: `${frontend}/health` }] },
    shows: [`GET ${bunApi}/health, GET ${frontend}/health`, 'SELECT 1', 'PING'],
  };
}
