/**
 * `GET /api/ably/health` (Node): the store, the outbox and Ably, rated healthy / degraded / unhealthy (503). Anonymous
 * callers and users without an admin role get the status and a timestamp only; admin roles get every check with its
 * figures. Anonymous answers may be kept by Netlify's CDN for a few seconds (`cdnCache`); answers to a request with a
 * token never are.
 */
import { Hono } from 'hono/tiny'
import type { RouteFactory } from '../app-env.ts'
import type { AppEnv } from '../app-env.ts'
import { isAdmin } from '../auth/admin.ts'
import type { HealthResponse } from '../contract/index.ts'
import { AppError } from '../errors/index.ts'
import { methodNotAllowed } from '../middleware/allow-methods/index.ts'
import { authenticate } from '../middleware/authenticate/index.ts'
import { ANONYMOUS_CACHE_SECONDS, cdnCache } from '../middleware/cdn-cache/index.ts'
import type { OutboxStats } from '../store/index.ts'
import { checkHealth, DEFAULT_HEALTH_THRESHOLDS, type HealthThresholds } from './index.ts'

export interface HealthSource {
  /** The outbox figures, from the gateway's store. */
  outboxStats(failedSince: Date): Promise<OutboxStats>
}

/** The health route over `source` (the gateway), with chosen thresholds. */
export function healthRoutes(source: HealthSource, thresholds: HealthThresholds = DEFAULT_HEALTH_THRESHOLDS): RouteFactory {
  return ({ ably, verify, config, now, log }) =>
    new Hono<AppEnv>()
      .get('/health', cdnCache({ seconds: ANONYMOUS_CACHE_SECONDS }), authenticate({ verify, optional: true }), async (c) => {
        // No parameter changes the answer: refusing them keeps one CDN cache entry, however the URL is varied.
        const unknown = Object.keys(c.req.queries())
        if (unknown.length > 0)
          throw new AppError('invalid_request', { message: 'The health route takes no query parameters.', details: { parameters: unknown.slice(0, 5) } })
        const report = await checkHealth({ outboxStats: (since) => source.outboxStats(since), ably, now, log, thresholds })
        const body: HealthResponse = isAdmin(c.get('caller'), config.adminRoles) ? report : { status: report.status, timestamp: report.timestamp }
        c.header('Cache-Control', 'no-store')
        return c.json(body, report.status === 'unhealthy' ? 503 : 200)
      })
      .all('/health', methodNotAllowed(['GET']))
}
