/** A01: per-user rate limit on publish, with Retry-After and the RateLimit headers. */
import { describe, expect, it } from 'vitest'
import { parseGatewayConfig } from '../../src/gateway/config.ts'
import { appToken, NOW } from '../support/fixtures.ts'
import { createMemoryStore } from '../../src/store/memory.ts'
import { gatewayApp, lookupsInPairs, oneWinsOneMismatch, ownMessages, publish, smsMessage } from './support.ts'

/** `count` distinct messages on alice's conversation channel, tagged with `tag`. */
const distinct = (count: number, tag: string) =>
  Array.from({ length: count }, (_, n) => ({ channelName: 'sms:alice:c1', eventName: 'message', data: smsMessage('alice', 'c1', { message: `${tag}-${n}` }) }))

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

  it('issue 11 #5: a refused batch consumes nothing: 50 accepted, 20 refused, then 10 accepted (60 of 60)', async () => {
    const { app, ably } = gatewayApp({ env: { PUBLISH_RATE_LIMIT: '60' } })
    const token = await appToken()
    expect((await publish(app, { messages: distinct(50, 'a') }, { token })).status).toBe(200)
    const refused = await publish(app, { messages: distinct(20, 'b') }, { token })
    expect([refused.status, refused.body.code]).toEqual([429, 'rate_limited'])
    expect(refused.res.headers.get('ratelimit')).toBe('"publish";r=10;t=60')
    const fits = await publish(app, { messages: distinct(10, 'c') }, { token })
    expect(fits.status).toBe(200)
    expect(fits.res.headers.get('ratelimit')).toBe('"publish";r=0;t=60')
    expect((await publish(app, { messages: distinct(1, 'd') }, { token })).status).toBe(429)
    expect(ably.delivered).toHaveLength(60)
  })

  it('issue 11 #5: a replay of an accepted request gets its original answer, never 429, and counts nothing', async () => {
    const { app, ably } = gatewayApp({ env: { PUBLISH_RATE_LIMIT: '3' } })
    const token = await appToken()
    const first = await publish(app, { messages: distinct(3, 'a') }, { token, headers: { 'Idempotency-Key': 'batch-1' } })
    expect(first.status).toBe(200)
    expect((await publish(app, { messages: distinct(1, 'b') }, { token })).status).toBe(429)
    for (let n = 0; n < 3; n += 1) {
      const again = await publish(app, { messages: distinct(3, 'a') }, { token, headers: { 'Idempotency-Key': 'batch-1' } })
      expect([again.status, again.res.headers.get('idempotent-replayed')]).toEqual([200, 'true'])
      expect(again.body).toEqual(first.body)
    }
    // A batch of one known message and one new one counts only the new one.
    const single = await publish(app, { ...distinct(1, 'own')[0], id: 'own' }, { token, headers: {} })
    expect(single.status).toBe(429)
    expect(ably.delivered).toHaveLength(3)
  })

  it('issue 11 #5: concurrent batches on the embedded store: exactly the limit is accepted, the rest refused, nothing over', async () => {
    const { app, ably, store } = gatewayApp({ env: { PUBLISH_RATE_LIMIT: '60' } })
    const token = await appToken()
    const responses = await Promise.all(Array.from({ length: 12 }, (_, n) => publish(app, { messages: distinct(10, `p${n}`) }, { token })))
    const statuses = responses.map((response) => response.status).sort()
    expect(statuses).toEqual([...Array(6).fill(200), ...Array(6).fill(429)])
    expect(await store.history({ channelName: 'sms:alice:c1', limit: 100 })).toHaveLength(60)
    expect(ably.delivered).toHaveLength(60)
  })

  it('issue 11 #5: a request that lost the race to store its key gives back what it reserved (the compensating release)', async () => {
    const paired = lookupsInPairs(createMemoryStore({ now: () => NOW }))
    const { app, ably } = gatewayApp({ store: paired.store, env: { PUBLISH_RATE_LIMIT: '5' } })
    const token = await appToken()
    const headers = { 'Idempotency-Key': 'raced' }
    const both = await Promise.all([
      publish(app, { messages: distinct(2, 'r') }, { token, headers }),
      publish(app, { messages: distinct(2, 'r') }, { token, headers }),
    ])
    const loser = both.find((response) => response.res.headers.get('idempotent-replayed') === 'true')
    const winner = both.find((response) => response !== loser)
    expect(winner?.status).toBe(200)
    // The winner is still delivering the loser's messages: stored and on their way, for the loser.
    expect(loser?.status).toBe(202)
    // The loser's answer shows the window as it is after its release: 2 of 5 used.
    expect(loser?.res.headers.get('ratelimit')).toBe('"publish";r=3;t=60')
    paired.state.on = false
    const next = await publish(app, { messages: distinct(3, 's') }, { token })
    expect([next.status, next.res.headers.get('ratelimit')]).toEqual([200, '"publish";r=0;t=60'])
    expect(ably.delivered).toHaveLength(5)
  })

  it('issue 11 #5: a request refused with 422 after it reserved (a concurrent request stored its key first) gives it all back', async () => {
    const paired = lookupsInPairs(createMemoryStore({ now: () => NOW }))
    const { app } = gatewayApp({ store: paired.store, env: { PUBLISH_RATE_LIMIT: '4' } })
    const token = await appToken()
    const [sms, contacts, notification] = ownMessages()
    const [a, b] = await Promise.all([
      publish(
        app,
        {
          messages: [
            { ...sms, id: 'x' },
            { ...contacts, id: 'y' },
          ],
        },
        { token },
      ),
      publish(
        app,
        {
          messages: [
            { ...notification, id: 'y' },
            { ...contacts, id: 'z' },
          ],
        },
        { token },
      ),
    ])
    oneWinsOneMismatch(a, b)
    paired.state.on = false
    const next = await publish(app, { messages: distinct(2, 'after') }, { token })
    expect([next.status, next.res.headers.get('ratelimit')]).toEqual([200, '"publish";r=0;t=60'])
  })

  it('PUBLISH_RATE_LIMIT=0 switches it off', () => {
    expect(parseGatewayConfig({ PUBLISH_RATE_LIMIT: '0' }).rateLimit).toBeUndefined()
    expect(parseGatewayConfig({}).rateLimit).toEqual({ limit: 60, windowSec: 60 })
  })
})
