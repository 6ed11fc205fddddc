/** `GET /api/ably/health`: the store, the outbox and Ably, through the front door, with what each caller may see and cache. */
import { describe, expect, it } from 'vitest'
import { parseGatewayConfig } from '../../src/gateway/config.ts'
import { createGateway } from '../../src/gateway/index.ts'
import { DEFAULT_HEALTH_THRESHOLDS, type HealthThresholds } from '../../src/health/index.ts'
import { healthRoutes } from '../../src/health/routes.ts'
import type { MessageStore } from '../../src/store/index.ts'
import { createMemoryStore } from '../../src/store/memory.ts'
import { appToken, bearer, fakeAbly, NOW, testApp, type FakeAblyBehaviour } from '../support/fixtures.ts'
import { ablyDown, faultyStore } from '../gateway/support.ts'
import { messageDoc } from '../store/contract.ts'

const admin = async () => bearer(await appToken({ userId: 'ops', role: 'admin' }))
const user = async () => bearer(await appToken())
const never = () => new Promise<never>(() => {})

function healthApp({
  store = createMemoryStore({ now: () => NOW }),
  ably = {},
  thresholds = DEFAULT_HEALTH_THRESHOLDS,
}: {
  store?: MessageStore
  ably?: FakeAblyBehaviour
  thresholds?: HealthThresholds
} = {}) {
  const port = fakeAbly(ably)
  const gateway = createGateway({ store, config: parseGatewayConfig({}), ably: port, log: () => {}, now: () => NOW })
  return testApp({ ably: port, routes: [healthRoutes(gateway, thresholds)] })
}

async function getHealth(app: ReturnType<typeof healthApp>['app'], headers: Record<string, string> = {}, path = '/api/ably/health') {
  const res = await app.request(path, { headers })
  return { res, body: (await res.json()) as Record<string, any> }
}

/** Messages of every kind, accepted `ageSec` before NOW. */
async function withBacklog(store: MessageStore, { pending = 0, ageSec = 0, failed = 0 }: { pending?: number; ageSec?: number; failed?: number }) {
  const T0 = Date.UTC(2026, 0, 1)
  const offset = NOW - T0 - ageSec * 1000
  await store.insert([
    ...Array.from({ length: pending }, () => messageDoc({}, offset)),
    ...Array.from({ length: failed }, () => messageDoc({ status: 'failed', updatedAt: new Date(NOW - 60_000) }, offset)),
  ])
  return store
}

const CDN = 'public, max-age=5, must-revalidate'

describe('GET /api/ably/health', () => {
  it('anonymous: status and timestamp only, cacheable by Netlify’s CDN for 5 s, keyed on Authorization and Origin', async () => {
    const store = await withBacklog(createMemoryStore({ now: () => NOW }), { pending: 3, ageSec: 10 })
    const { res, body } = await getHealth(healthApp({ store }).app)
    expect(res.status).toBe(200)
    expect(body).toEqual({ status: 'healthy', timestamp: new Date(NOW).toISOString() })
    expect(JSON.stringify(body)).not.toMatch(/pending|latency|store|ably/)
    expect(res.headers.get('netlify-cdn-cache-control')).toBe(CDN)
    expect(res.headers.get('netlify-vary')).toBe('header=Authorization|Origin')
    expect(res.headers.get('vary')).toMatch(/Authorization/)
    expect(res.headers.get('cache-control')).toBe('no-store')
  })

  it('an admin: every check with its figures, and never cacheable', async () => {
    const store = await withBacklog(createMemoryStore({ now: () => NOW }), { pending: 3, ageSec: 10 })
    const { res, body } = await getHealth(healthApp({ store }).app, await admin())
    expect(res.status).toBe(200)
    expect(body).toEqual({
      status: 'healthy',
      reasons: [],
      timestamp: expect.any(String),
      responseTime: expect.any(Number),
      checks: {
        store: { status: 'ok', latencyMs: expect.any(Number) },
        outbox: { status: 'ok', pending: 3, oldestPendingAgeSec: 10, failedLast24h: 0 },
        ably: { status: 'ok', latencyMs: expect.any(Number) },
      },
    })
    expect(res.headers.get('netlify-cdn-cache-control')).toBeNull()
    expect(res.headers.get('netlify-vary')).toBeNull()
    expect(res.headers.get('cache-control')).toBe('no-store')
  })

  it('a user without an admin role: status only, and never cacheable', async () => {
    const { res, body } = await getHealth(healthApp().app, await user())
    expect(body).toEqual({ status: 'healthy', timestamp: expect.any(String) })
    expect(res.headers.get('netlify-cdn-cache-control')).toBeNull()
  })

  it('a bad token is refused (401), even where anonymous access is allowed, and not cached', async () => {
    const { res, body } = await getHealth(healthApp().app, { Authorization: 'Bearer nope' })
    expect([res.status, body.code]).toEqual([401, 'invalid_token'])
    expect(res.headers.get('netlify-cdn-cache-control')).toBeNull()
  })

  it('refuses query parameters (400), so varying the URL cannot get around the cache', async () => {
    const { res, body } = await getHealth(healthApp().app, {}, '/api/ably/health?nocache=1')
    expect([res.status, body.code, body.details]).toEqual([400, 'invalid_request', { parameters: ['nocache'] }])
  })

  it('store down: 503 unhealthy; the admin sees the store failed and the outbox unknown', async () => {
    const { store, state } = faultyStore(createMemoryStore({ now: () => NOW }))
    state.failing.add('outboxStats')
    const app = healthApp({ store }).app
    const anonymous = await getHealth(app)
    expect([anonymous.res.status, anonymous.body]).toEqual([503, { status: 'unhealthy', timestamp: expect.any(String) }])
    expect(anonymous.res.headers.get('netlify-cdn-cache-control')).toBe(CDN)
    const { res, body } = await getHealth(app, await admin())
    expect(res.status).toBe(503)
    expect(body.checks.store).toEqual({ status: 'failed', latencyMs: expect.any(Number), error: 'unreachable' })
    expect(body.checks.outbox).toEqual({ status: 'unknown', pending: null, oldestPendingAgeSec: null, failedLast24h: null })
    expect(body.reasons).toEqual(['store unreachable'])
  })

  it('store hanging: the check times out, the request does not', async () => {
    const { store, state } = faultyStore(createMemoryStore({ now: () => NOW }), 'hang')
    state.failing.add('outboxStats')
    const { res, body } = await getHealth(healthApp({ store, thresholds: { ...DEFAULT_HEALTH_THRESHOLDS, checkTimeoutMs: 50 } }).app, await admin())
    expect(res.status).toBe(503)
    expect(body.checks.store.error).toBe('timeout')
  })

  it('Ably down: degraded (publishes are stored and queued), with the reason', async () => {
    const { res, body } = await getHealth(healthApp({ ably: { time: () => Promise.reject(ablyDown()) } }).app, await admin())
    expect(res.status).toBe(200)
    expect(body.status).toBe('degraded')
    expect(body.checks.ably).toEqual({ status: 'failed', latencyMs: expect.any(Number), error: 'unreachable' })
    expect(body.reasons).toEqual(['ably unreachable'])
  })

  it('Ably hanging: times out, degraded', async () => {
    const { body } = await getHealth(healthApp({ ably: { time: never }, thresholds: { ...DEFAULT_HEALTH_THRESHOLDS, checkTimeoutMs: 50 } }).app, await admin())
    expect([body.status, body.checks.ably.error]).toEqual(['degraded', 'timeout'])
  })

  const backlogs: [name: string, backlog: Parameters<typeof withBacklog>[1], status: string, outbox: string, reason: RegExp][] = [
    ['an oldest pending message past 120 s: degraded', { pending: 1, ageSec: 121 }, 'degraded', 'backlog', /oldest pending 121 s \(>= 120 s\)/],
    ['an oldest pending message past 900 s: unhealthy', { pending: 1, ageSec: 901 }, 'unhealthy', 'stalled', /oldest pending 901 s \(>= 900 s\)/],
    ['100 pending: degraded', { pending: 100, ageSec: 5 }, 'degraded', 'backlog', /100 pending \(>= 100\)/],
    ['a message failed in the last 24 h: degraded', { failed: 1, ageSec: 3600 }, 'degraded', 'backlog', /1 failed in 24 h/],
  ]
  it.each(backlogs)('outbox: %s', async (_name, backlog, status, outbox, reason) => {
    const store = await withBacklog(createMemoryStore({ now: () => NOW }), backlog)
    const { res, body } = await getHealth(healthApp({ store }).app, await admin())
    expect(res.status).toBe(status === 'unhealthy' ? 503 : 200)
    expect(body.status).toBe(status)
    expect(body.checks.outbox.status).toBe(outbox)
    expect(body.reasons.join('; ')).toMatch(reason)
  })

  it('outbox: pending over the unhealthy count (thresholds lowered for the test)', async () => {
    const store = await withBacklog(createMemoryStore({ now: () => NOW }), { pending: 5, ageSec: 1 })
    const { body } = await getHealth(
      healthApp({ store, thresholds: { ...DEFAULT_HEALTH_THRESHOLDS, pendingDegraded: 2, pendingUnhealthy: 5 } }).app,
      await admin(),
    )
    expect([body.status, body.checks.outbox.status, body.reasons]).toEqual(['unhealthy', 'stalled', ['5 pending (>= 5)']])
  })

  it('answers other methods with our JSON 405', async () => {
    const res = await healthApp().app.request('/api/ably/health', { method: 'POST' })
    expect([res.status, res.headers.get('allow')]).toEqual([405, 'GET, OPTIONS'])
  })
})

describe('the scheduled run’s health line', () => {
  const line = async (store: MessageStore) => {
    const logs: Record<string, unknown>[] = []
    const { logHealthLine } = await import('../../src/health/index.ts')
    await logHealthLine({ outboxStats: (since) => store.outboxStats(since), now: () => NOW, log: (entry) => logs.push(entry) })
    return logs.filter((entry) => entry.msg === 'health')
  }

  it('info when healthy, warn with reasons on a backlog, error when stalled or the store is down', async () => {
    expect(await line(createMemoryStore())).toEqual([
      { level: 'info', msg: 'health', status: 'healthy', pending: 0, oldestPendingAgeSec: null, failedLast24h: 0, storeLatencyMs: 0 },
    ])
    expect(await line(await withBacklog(createMemoryStore({ now: () => NOW }), { pending: 2, ageSec: 300, failed: 1 }))).toEqual([
      {
        level: 'warn',
        msg: 'health',
        status: 'degraded',
        pending: 2,
        oldestPendingAgeSec: 300,
        failedLast24h: 1,
        storeLatencyMs: 0,
        reasons: ['oldest pending 300 s (>= 120 s)', '1 failed in 24 h'],
      },
    ])
    expect((await line(await withBacklog(createMemoryStore({ now: () => NOW }), { pending: 1, ageSec: 1000 })))[0]).toEqual(
      expect.objectContaining({ level: 'error', status: 'unhealthy' }),
    )
    const { store, state } = faultyStore()
    state.failing.add('outboxStats')
    expect((await line(store))[0]).toEqual(expect.objectContaining({ level: 'error', status: 'unhealthy', pending: null, reasons: ['store unreachable'] }))
  })
})
