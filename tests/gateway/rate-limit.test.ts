/** A01: per-user rate limit on publish, with Retry-After and the RateLimit headers. */
import { describe, expect, it } from 'vitest'
import { parseGatewayConfig } from '../../src/gateway/config.ts'
import { appToken, NOW } from '../support/fixtures.ts'
import { gatewayApp, ownMessages, publish } from './support.ts'

describe('A01: per-user rate limit on publish', () => {
  const env = { PUBLISH_RATE_LIMIT: '20', PUBLISH_RATE_WINDOW_SEC: '10' }

  it('21 requests in 10 s from one user: the 21st → 429 with Retry-After and RateLimit; after the window, 2xx again', async () => {
    const time = { now: NOW + 3_000 }
    const { app, ably } = gatewayApp({ env, now: () => time.now })
    const token = await appToken()
    for (let n = 1; n <= 20; n += 1) {
      const { status, res } = await publish(app, { ...ownMessages()[1], id: `m${n}` }, { token })
      expect(status).toBe(200)
      expect(res.headers.get('ratelimit')).toBe(`"publish";r=${20 - n};t=7`)
      expect(res.headers.get('ratelimit-policy')).toBe('"publish";q=20;w=10')
    }
    const over = await publish(app, { ...ownMessages()[1], id: 'm21' }, { token })
    expect(over.status).toBe(429)
    expect(over.body.code).toBe('rate_limited')
    expect(over.res.headers.get('retry-after')).toBe('7')
    expect(over.res.headers.get('ratelimit')).toBe('"publish";r=0;t=7')
    expect(ably.requests).toBe(20)

    time.now += 7_000
    expect((await publish(app, { ...ownMessages()[1], id: 'm22' }, { token })).status).toBe(200)
  })

  it('is per user: bob is not limited by alice', async () => {
    const { app } = gatewayApp({ env: { PUBLISH_RATE_LIMIT: '1' } })
    expect((await publish(app, ownMessages()[1])).status).toBe(200)
    expect((await publish(app, { ...ownMessages()[1], id: 'again' })).status).toBe(429)
    expect((await publish(app, ownMessages('bob')[1], { token: await appToken({ userId: 'bob' }) })).status).toBe(200)
  })

  it('counts each message of a batch', async () => {
    const { app } = gatewayApp({ env: { PUBLISH_RATE_LIMIT: '4' } })
    expect((await publish(app, { messages: ownMessages() })).status).toBe(200)
    const { status, res } = await publish(app, { messages: ownMessages().map((message, index) => ({ ...message, id: `b${index}` })) })
    expect(status).toBe(429)
    expect(res.headers.get('retry-after')).toBe('60')
  })

  it('PUBLISH_RATE_LIMIT=0 switches it off', () => {
    expect(parseGatewayConfig({ PUBLISH_RATE_LIMIT: '0' }).rateLimit).toBeUndefined()
    expect(parseGatewayConfig({}).rateLimit).toEqual({ limit: 60, windowSec: 60 })
  })
})
