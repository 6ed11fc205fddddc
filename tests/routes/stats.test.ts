import { describe, expect, it } from 'vitest'
import { AblyRestError, type AblyRest } from '../../src/ably-rest/index.ts'
import { DEFAULT_HEALTH_THRESHOLDS, healthRoutes, type HealthThresholds } from '../../src/routes/stats.ts'
import { appToken, bearer, fakeAbly, NOW, TEST_ABLY_KEY, testApp, type FakeAblyBehaviour } from '../support/fixtures.ts'

const occupancy = { connections: 2, presenceConnections: 0, presenceMembers: 0, presenceSubscribers: 1, publishers: 0, subscribers: 2 }
const never = () => new Promise<never>(() => {})
const slow = <T>(value: T, ms: number) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms))

/** A clock that advances by `step` ms on every read, so latency is measured without sleeping. */
function steppingClock(step: number) {
  let t = NOW
  return () => (t += step)
}

async function getStats(
  path: string,
  {
    ably,
    headers = {},
    now,
    thresholds = DEFAULT_HEALTH_THRESHOLDS,
  }: { ably: AblyRest; headers?: Record<string, string>; now?: () => number; thresholds?: HealthThresholds },
) {
  const { app, logs } = testApp({ ably, ...(now && { now }), routes: [(services) => healthRoutes(services, thresholds)] })
  const res = await app.request(path, { headers })
  // biome-ignore lint/suspicious/noExplicitAny: the cases read nested fields the expectations then check; tests/contract checks the shape.
  return { res, body: (await res.json()) as Record<string, any>, logs }
}

describe('GET /api/ably/stats', () => {
  const cases: [name: string, behaviour: FakeAblyBehaviour, status: number, health: string][] = [
    ['healthy when Ably answers quickly', {}, 200, 'healthy'],
    ['unhealthy (503) when Ably is unreachable', { time: () => Promise.reject(new AblyRestError('no response', { statusCode: 0 })) }, 503, 'unhealthy'],
    [
      'unhealthy (503) when Ably answers 500',
      { time: () => Promise.reject(new AblyRestError('boom', { statusCode: 500, ablyCode: 50000 })) },
      503,
      'unhealthy',
    ],
    ['degraded when the clock is skewed by a minute', { time: async () => NOW + 60_000 }, 200, 'degraded'],
  ]
  it.each(cases)('%s', async (_name, behaviour, status, health) => {
    const { res, body } = await getStats('/api/ably/stats', { ably: fakeAbly(behaviour) })
    expect(res.status).toBe(status)
    expect(body.status).toBe(health)
    expect(body.server).toEqual({ initialized: true, connectionState: status === 503 ? 'disconnected' : 'connected', uptime: expect.any(Number) })
    expect(body.checks.ablyTime).toEqual(
      expect.objectContaining({ status: health === 'healthy' ? 'ok' : health === 'degraded' ? 'slow' : 'failed', latencyMs: expect.any(Number) }),
    )
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(body).toEqual(expect.objectContaining({ channels: {}, timestamp: expect.any(String), responseTime: expect.any(Number) }))
  })

  it('anonymous answers are cacheable by Netlify’s CDN for 5 s (keyed on channelName, Authorization and Origin only); answers to a token never are', async () => {
    const anonymous = await getStats('/api/ably/stats?utm_source=x', { ably: fakeAbly() })
    expect(anonymous.res.headers.get('netlify-cdn-cache-control')).toBe('public, max-age=5, must-revalidate')
    expect(anonymous.res.headers.get('netlify-vary')).toBe('query=channelName,header=Authorization|Origin')
    expect(anonymous.res.headers.get('vary')).toMatch(/Authorization/)
    const down = await getStats('/api/ably/stats', { ably: fakeAbly({ time: () => Promise.reject(new AblyRestError('no response', { statusCode: 0 })) }) })
    expect([down.res.status, down.res.headers.get('netlify-cdn-cache-control')]).toEqual([503, 'public, max-age=5, must-revalidate'])
    for (const path of ['/api/ably/stats', '/api/ably/stats?channelName=sms:alice:c1']) {
      const { res } = await getStats(path, { ably: fakeAbly(), headers: bearer(await appToken()) })
      expect([res.status, res.headers.get('netlify-cdn-cache-control'), res.headers.get('netlify-vary'), res.headers.get('cache-control')]).toEqual([
        200,
        null,
        null,
        'no-store',
      ])
    }
    const refused = await getStats('/api/ably/stats?channelName=sms:alice:c1', { ably: fakeAbly() })
    expect([refused.res.status, refused.res.headers.get('netlify-cdn-cache-control')]).toEqual([401, null])
  })

  it('degraded when Ably is slow', async () => {
    const { res, body } = await getStats('/api/ably/stats', { ably: fakeAbly(), now: steppingClock(1500) })
    expect(res.status).toBe(200)
    expect(body.status).toBe('degraded')
    expect(body.checks.ablyTime.status).toBe('slow')
  })

  it('unhealthy when Ably hangs: the check times out instead of the request', async () => {
    const { res, body } = await getStats('/api/ably/stats', {
      ably: fakeAbly({ time: never }),
      thresholds: { ...DEFAULT_HEALTH_THRESHOLDS, checkTimeoutMs: 50 },
    })
    expect(res.status).toBe(503)
    expect(body.checks.ablyTime).toEqual(expect.objectContaining({ status: 'failed', error: 'timeout' }))
  })

  it('reports the caller’s own channel with state and occupancy', async () => {
    const ably = fakeAbly({ channelStatus: async () => ({ isActive: true, occupancy }) })
    const { res, body } = await getStats('/api/ably/stats?channelName=sms:alice:c1', { ably, headers: bearer(await appToken()) })
    expect(res.status).toBe(200)
    expect(body.status).toBe('healthy')
    expect(body.channels).toEqual({ 'sms:alice:c1': { name: 'sms:alice:c1', state: 'active', occupancy } })
    expect(body.checks.channelStatus).toEqual(expect.objectContaining({ status: 'ok' }))
    expect(ably.calls).toEqual(['time', 'channelStatus sms:alice:c1'])
  })

  it('degraded when the channel check fails but Ably is reachable', async () => {
    const ably = fakeAbly({ channelStatus: () => Promise.reject(new AblyRestError('boom', { statusCode: 503, ablyCode: 50300 })) })
    const { res, body } = await getStats('/api/ably/stats?channelName=contacts:alice', { ably, headers: bearer(await appToken()) })
    expect(res.status).toBe(200)
    expect(body.status).toBe('degraded')
    expect(body.channels['contacts:alice']).toEqual({ name: 'contacts:alice', state: 'unknown' })
  })

  it('slow channel check → degraded', async () => {
    const ably = fakeAbly({ channelStatus: () => slow({ isActive: false }, 5) })
    const { body } = await getStats('/api/ably/stats?channelName=notifications:alice', { ably, headers: bearer(await appToken()), now: steppingClock(1200) })
    expect(body.status).toBe('degraded')
  })

  it.each([
    ['another user’s channel', 'sms:bob:c1', 'user', 403, 'forbidden'],
    ['another user’s channel as admin', 'sms:bob:c1', 'admin', 200, undefined],
    ['another user’s channel as support (second admin role)', 'contacts:bob', 'support', 200, undefined],
    ['an invalid channel name', 'sms:*:c1', 'admin', 400, 'invalid_channel'],
    ['a metachannel', '[meta]channel.lifecycle', 'admin', 400, 'invalid_channel'],
  ])('channelName = %s', async (_name, channelName, role, status, code) => {
    const ably = fakeAbly()
    const { res, body } = await getStats(`/api/ably/stats?channelName=${encodeURIComponent(channelName)}`, { ably, headers: bearer(await appToken({ role })) })
    expect(res.status).toBe(status)
    if (code) {
      expect(body.code).toBe(code)
      expect(ably.calls).toEqual([])
    }
  })

  it('asks for a token before reporting on any channel', async () => {
    const ably = fakeAbly()
    const { res, body } = await getStats('/api/ably/stats?channelName=sms:alice:c1', { ably })
    expect(res.status).toBe(401)
    expect(body.code).toBe('invalid_token')
    expect(ably.calls).toEqual([])
  })

  it('rejects a bad token even where anonymous access is allowed', async () => {
    const { res } = await getStats('/api/ably/stats', { ably: fakeAbly(), headers: { Authorization: 'Bearer not.a.jwt' } })
    expect(res.status).toBe(401)
  })

  it('never puts a secret in the body', async () => {
    const ably = fakeAbly({ time: () => Promise.reject(new Error(`connect ECONNREFUSED with key ${TEST_ABLY_KEY}`)) })
    const { body, logs } = await getStats('/api/ably/stats', { ably })
    const text = JSON.stringify(body) + JSON.stringify(logs)
    expect(text).not.toContain(TEST_ABLY_KEY.split(':')[1])
  })
})
