/** GET /api/ably/history: the caller's own channels, from the store, newest first, paged with `before`. */
import { describe, expect, it } from 'vitest'
import { appToken, bearer, NOW } from '../support/fixtures.ts'
import { createMemoryStore } from '../../src/store/memory.ts'
import { faultyStore, gatewayApp, ownMessages, publish, smsMessage } from './support.ts'

async function history(app: ReturnType<typeof gatewayApp>['app'], query: string, token?: string) {
  const res = await app.request(`/api/ably/history?${query}`, { headers: bearer(token ?? (await appToken())) })
  return { res, status: res.status, body: (await res.json()) as Record<string, unknown> }
}

describe('GET /api/ably/history', () => {
  it('returns the channel’s accepted messages newest first, Ably-shaped, queued ones included, paged by `next`', async () => {
    let now = NOW
    const { app, ably } = gatewayApp({ now: () => now })
    const ids: string[] = []
    for (let n = 0; n < 5; n += 1) {
      now += 1000
      if (n === 4) ably.state.down = true
      const { body } = await publish(app, { channelName: 'sms:alice:c1', eventName: 'message', data: smsMessage('alice', 'c1', { message: `m${n}` }) })
      ids.push(String(body.messageId))
    }
    const page1 = await history(app, 'channelName=sms:alice:c1&limit=3')
    expect(page1.status).toBe(200)
    expect(page1.res.headers.get('cache-control')).toBe('no-store')
    const messages = page1.body.messages as { id: string; name: string; data: { message: string }; timestamp: number; status: string }[]
    expect(messages.map((message) => message.id)).toEqual([ids[4], ids[3], ids[2]])
    expect(messages[0]).toEqual({ id: ids[4], name: 'message', data: smsMessage('alice', 'c1', { message: 'm4' }), timestamp: NOW + 5000, status: 'pending' })
    expect(messages[1]?.status).toBe('published')
    const page2 = await history(app, `channelName=sms:alice:c1&limit=3&before=${encodeURIComponent(String(page1.body.next))}`)
    expect((page2.body.messages as { id: string }[]).map((message) => message.id)).toEqual([ids[1], ids[0]])
    expect(page2.body.next).toBeNull()
    const beforeTime = await history(app, `channelName=sms:alice:c1&before=${new Date(NOW + 2500).toISOString()}`)
    expect((beforeTime.body.messages as { id: string }[]).map((message) => message.id)).toEqual([ids[1], ids[0]])
  })

  it('returns a batch (one acceptance time) in the order it was sent, newest first, across pages', async () => {
    const { app } = gatewayApp()
    const texts = Array.from({ length: 12 }, (_, n) => `b${n}`)
    const sent = await publish(app, {
      messages: texts.map((text) => ({ channelName: 'sms:alice:c1', eventName: 'message', data: smsMessage('alice', 'c1', { message: text }) })),
    })
    expect(sent.status).toBe(200)
    const seen: string[] = []
    let before: string | undefined
    do {
      const page = await history(app, `channelName=sms:alice:c1&limit=5${before === undefined ? '' : `&before=${encodeURIComponent(before)}`}`)
      expect(page.status).toBe(200)
      seen.push(...(page.body.messages as { data: { message: string } }[]).map((message) => message.data.message))
      before = page.body.next === null ? undefined : String(page.body.next)
    } while (before !== undefined)
    expect(seen).toEqual([...texts].reverse())
  })

  it('excludes messages Ably refused', async () => {
    const { app, ably } = gatewayApp()
    const { AblyRestError } = await import('../../src/ably-rest/index.ts')
    ably.fail(new AblyRestError('no', { statusCode: 400, ablyCode: 40160 }))
    await publish(app, ownMessages()[1])
    expect((await history(app, 'channelName=contacts:alice')).body.messages).toEqual([])
  })

  it('another user’s channel → 403; an admin may read it', async () => {
    const { app } = gatewayApp()
    await publish(app, ownMessages('bob')[1], { token: await appToken({ userId: 'bob' }) })
    expect((await history(app, 'channelName=contacts:bob')).status).toBe(403)
    const admin = await history(app, 'channelName=contacts:bob', await appToken({ role: 'admin' }))
    expect((admin.body.messages as unknown[]).length).toBe(1)
  })

  const badQueries = [
    ['', 'invalid_channel'],
    ['channelName=sms:alice:*', 'invalid_channel'],
    ['channelName=%5Bmeta%5Dlog', 'invalid_channel'],
    ['channelName=contacts:alice&limit=0', 'invalid_request'],
    ['channelName=contacts:alice&limit=101', 'invalid_request'],
    ['channelName=contacts:alice&limit=ten', 'invalid_request'],
    ['channelName=contacts:alice&before=yesterday', 'invalid_request'],
    ['channelName=contacts:alice&before=%7B%22%24gt%22%3A%22%22%7D', 'invalid_request'],
    ['channelName=contacts:bob', 'forbidden'],
  ] as const
  it.each(badQueries.filter(([, code]) => code !== 'forbidden'))('%s → 400 %s', async (query, code) => {
    const { app } = gatewayApp()
    const { status, body } = await history(app, query)
    expect(status).toBe(400)
    expect(body.code).toBe(code)
  })

  it.each(badQueries)('%s is refused (%s) before the store is asked: never a 503 while it is down', async (query, code) => {
    const faulty = faultyStore()
    faulty.state.failing.add('*')
    const { status, body } = await history(gatewayApp({ store: faulty.store }).app, query)
    expect(status).toBeLessThan(500)
    expect(body.code).toBe(code)
  })

  it('401 without a token; 405 for POST', async () => {
    const { app } = gatewayApp()
    expect((await app.request('/api/ably/history?channelName=contacts:alice')).status).toBe(401)
    expect((await app.request('/api/ably/history?channelName=contacts:alice', { method: 'POST', headers: bearer(await appToken()) })).status).toBe(405)
  })

  it('issue 11 #9: reads are rate-limited per user: 429 with Retry-After and the RateLimit headers, bad queries not counted, publish apart', async () => {
    const time = { now: NOW + 15_000 }
    const { app } = gatewayApp({ now: () => time.now, env: { HISTORY_RATE_LIMIT: '3', HISTORY_RATE_WINDOW_SEC: '60', PUBLISH_RATE_LIMIT: '5' } })
    expect((await history(app, 'channelName=contacts:alice&limit=0')).status).toBe(400)
    for (let n = 1; n <= 3; n += 1) {
      const read = await history(app, 'channelName=contacts:alice')
      expect(read.status).toBe(200)
      expect(read.res.headers.get('ratelimit')).toBe(`"history";r=${3 - n};t=45`)
      expect(read.res.headers.get('ratelimit-policy')).toBe('"history";q=3;w=60')
    }
    const over = await history(app, 'channelName=contacts:alice')
    expect([over.status, over.body.code]).toEqual([429, 'rate_limited'])
    expect(over.res.headers.get('retry-after')).toBe('45')
    expect(over.res.headers.get('ratelimit')).toBe('"history";r=0;t=45')
    // Publishing has its own budget, and bob his own reads.
    expect((await publish(app, ownMessages()[1])).status).toBe(200)
    expect((await history(app, 'channelName=contacts:bob', await appToken({ userId: 'bob' }))).status).toBe(200)
    time.now += 45_000
    expect((await history(app, 'channelName=contacts:alice')).status).toBe(200)
  })

  it('issue 11 #9: delivered and failed messages go after MESSAGE_RETENTION_SEC; a pending one stays however old', async () => {
    const time = { now: NOW }
    const { app, ably } = gatewayApp({ now: () => time.now, env: { MESSAGE_RETENTION_SEC: '3600', OUTBOX_MAX_AGE_SEC: String(30 * 86_400) } })
    const { AblyRestError } = await import('../../src/ably-rest/index.ts')
    const sent = (text: string) => ({ channelName: 'sms:alice:c1', eventName: 'message', data: smsMessage('alice', 'c1', { message: text }) })
    expect((await publish(app, sent('delivered'))).status).toBe(200)
    time.now += 1000
    ably.fail(new AblyRestError('no', { statusCode: 400, ablyCode: 40160 }))
    expect((await publish(app, sent('refused'))).status).toBe(502)
    time.now += 1000
    ably.state.down = true
    expect((await publish(app, sent('pending'))).status).toBe(202)
    const longLived = await appToken({ exp: NOW / 1000 + 30 * 86_400 })
    const texts = async () => {
      const read = await history(app, 'channelName=sms:alice:c1', longLived)
      expect(read.status).toBe(200)
      return (read.body.messages as { data: { message: string } }[]).map((message) => message.data.message)
    }
    expect(await texts()).toEqual(['pending', 'delivered'])
    time.now += 3_601_000
    expect(await texts()).toEqual(['pending'])
    time.now += 20 * 86_400_000
    expect(await texts()).toEqual(['pending'])
  })

  it('issue 11 #9: the embedded store is bounded: past its limit settled messages go first, oldest first, and a pending one never', async () => {
    const time = { now: NOW }
    const store = createMemoryStore({ now: () => time.now, maxMessages: 10 })
    const { app, ably, gateway } = gatewayApp({ store, now: () => time.now })
    const sent = (text: string) => ({ channelName: 'sms:alice:c1', eventName: 'message', data: smsMessage('alice', 'c1', { message: text }) })
    const texts = async () =>
      ((await history(app, 'channelName=sms:alice:c1&limit=100')).body.messages as { data: { message: string } }[]).map((message) => message.data.message)
    for (let n = 0; n < 25; n += 1) {
      time.now += 1000
      expect((await publish(app, sent(`d${n}`))).status).toBe(200)
    }
    const kept = await texts()
    expect(kept.length).toBeLessThanOrEqual(10)
    expect(kept[0]).toBe('d24')
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, n) => `d${24 - n}`))

    ably.state.down = true
    for (let n = 0; n < 10; n += 1) {
      time.now += 1000
      expect((await publish(app, sent(`p${n}`))).status).toBe(202)
    }
    const full = await publish(app, sent('one too many'))
    expect([full.status, full.body.code]).toEqual([503, 'store_unavailable'])
    expect(full.res.headers.get('retry-after')).toBe('5')
    expect(await texts()).toEqual(Array.from({ length: 10 }, (_, n) => `p${9 - n}`))

    ably.state.down = false
    time.now += 60_000
    expect((await gateway.sweep()).published).toBe(10)
    expect((await publish(app, sent('after'))).status).toBe(200)
    expect((await texts())[0]).toBe('after')
  })

  it('issue 11 #9: the embedded store bounds the bytes it holds as well as the count', async () => {
    const store = createMemoryStore({ now: () => NOW, maxMessageBytes: 4000 })
    const { app } = gatewayApp({ store })
    for (let n = 0; n < 30; n += 1) {
      expect(
        (await publish(app, { channelName: 'sms:alice:c1', eventName: 'message', data: smsMessage('alice', 'c1', { message: `${n}`.padEnd(300, '.') }) }))
          .status,
      ).toBe(200)
    }
    const kept = (await history(app, 'channelName=sms:alice:c1&limit=100')).body.messages as unknown[]
    expect(kept.length).toBeGreaterThan(0)
    expect(kept.length).toBeLessThanOrEqual(8)
  })
})
