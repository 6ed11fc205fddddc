/** `GET /api/ably/stats[?channelName=…]`: healthy / degraded / unhealthy, from Ably's REST API, with channel state. */
import { Hono } from 'hono/tiny'
import type { AppEnv, RouteFactory } from '../app-env.ts'
import type { HealthStatus, StatsResponse } from '../contract/index.ts'
import { AppError } from '../errors/index.ts'
import { timedCheck } from '../health/check.ts'
import { methodNotAllowed } from '../middleware/allow-methods/index.ts'
import { authenticate } from '../middleware/authenticate/index.ts'
import { ANONYMOUS_CACHE_SECONDS, cdnCache } from '../middleware/cdn-cache/index.ts'
import { userPrincipal } from '../policy/index.ts'
import { smsInboxChannels } from '../policy/sms-inbox.ts'

export interface HealthThresholds {
  /** A check slower than this makes the service `degraded`. */
  slowMs: number
  /** Each check is abandoned after this long. */
  checkTimeoutMs: number
  /** A clock skew larger than this makes the service `degraded` (short-lived tokens would misbehave). */
  maxClockSkewMs: number
}

export const DEFAULT_HEALTH_THRESHOLDS: HealthThresholds = { slowMs: 1000, checkTimeoutMs: 2500, maxClockSkewMs: 10_000 }

/** The stats route, with the default thresholds. */
export const statsRoutes: RouteFactory = (services) => healthRoutes(services)

/** The stats route with chosen thresholds. */
export function healthRoutes(
  { ably, verify, config, now, log, policy = smsInboxChannels }: Parameters<RouteFactory>[0],
  { slowMs, checkTimeoutMs, maxClockSkewMs }: HealthThresholds = DEFAULT_HEALTH_THRESHOLDS,
) {
  const startedAt = now()

  const check = <T>(run: (signal: AbortSignal) => Promise<T>) =>
    timedCheck(run, { now, log, slowMs, timeoutMs: checkTimeoutMs, failureMsg: 'ably_check_failed' })

  // Anonymous answers are kept by Netlify's CDN a few seconds; `channelName` alone of the query makes another answer.
  return new Hono<AppEnv>()
    .get('/stats', cdnCache({ seconds: ANONYMOUS_CACHE_SECONDS, varyQuery: ['channelName'] }), authenticate({ verify, optional: true }), async (c) => {
      const started = now()
      const channelName = c.req.query('channelName')
      const channel = channelName === undefined ? undefined : policy.parse(channelName)
      if (channelName !== undefined) {
        if (!channel) throw policy.invalidChannel()
        const caller = c.get('caller')
        if (!caller) throw new AppError('invalid_token', { reason: 'channel stats need a user', headers: { 'WWW-Authenticate': 'Bearer' } })
        if (!policy.mayRead(userPrincipal(caller, config.adminRoles), channel)) {
          throw new AppError('forbidden', { message: 'You may only ask about your own channels.' })
        }
      }

      const [[timeCheck, ablyTime], channelResult] = await Promise.all([
        check((signal) => ably.time({ signal })),
        channelName === undefined ? undefined : check((signal) => ably.channelStatus(channelName, { signal })),
      ])
      if (ablyTime !== undefined) {
        timeCheck.clockSkewMs = Math.round(ablyTime - (started + timeCheck.latencyMs / 2))
        if (Math.abs(timeCheck.clockSkewMs) > maxClockSkewMs && timeCheck.status === 'ok') timeCheck.status = 'slow'
      }

      const channels: StatsResponse['channels'] = {}
      if (channelName !== undefined && channelResult) {
        const [, status] = channelResult
        channels[channelName] = {
          name: channelName,
          state: status === undefined ? 'unknown' : status.isActive ? 'active' : 'inactive',
          ...(status?.occupancy && { occupancy: status.occupancy }),
        }
      }

      const checks: StatsResponse['checks'] = { ablyTime: timeCheck, ...(channelResult && { channelStatus: channelResult[0] }) }
      const status: HealthStatus =
        timeCheck.status === 'failed' ? 'unhealthy' : Object.values(checks).every((result) => result.status === 'ok') ? 'healthy' : 'degraded'
      const body: StatsResponse = {
        status,
        server: {
          initialized: true,
          connectionState: timeCheck.status === 'failed' ? 'disconnected' : 'connected',
          uptime: Math.round((now() - startedAt) / 1000),
        },
        channels,
        checks,
        timestamp: new Date(now()).toISOString(),
        responseTime: now() - started,
      }
      c.header('Cache-Control', 'no-store')
      return c.json(body, status === 'unhealthy' ? 503 : 200)
    })
    .all('/stats', methodNotAllowed(['GET']))
}
