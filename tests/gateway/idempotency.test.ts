/** Idempotency: a retry returns the original result and publishes nothing new; the same key with another body is 422. */
import { describe, expect, it } from 'vitest'
import type { MessageStore } from '../../src/store/index.ts'
import { createMemoryStore } from '../../src/store/memory.ts'
import { appToken, NOW } from '../support/fixtures.ts'
import { ablyDown, faultyStore, gatewayApp, lookupsInPairs, oneWinsOneMismatch, ownMessages, publish, smsMessage } from './support.ts'

const message = ownMessages()[0]
const key = (value: string) => ({ 'Idempotency-Key': value })

describe('Idempotency-Key', () => {
  it('a retry returns the original result, marked as replayed, and publishes nothing new', async () => {
    const { app, ably } = gatewayApp()
    const first = await publish(app, message, { headers: key('k-1') })
    const again = await publish(app, message, { headers: key('k-1') })
    expect(first.status).toBe(200)
    expect(again.status).toBe(200)
    expect(again.body).toEqual(first.body)
    expect(again.res.headers.get('idempotent-replayed')).toBe('true')
    expect(first.res.headers.get('idempotent-replayed')).toBeNull()
    expect(ably.requests).toBe(1)
  })

  it('accepts the structured-field form "…" of the header', async () => {
    const { app, ably } = gatewayApp()
    const first = await publish(app, message, { headers: key('"k-2"') })
    const again = await publish(app, message, { headers: key('k-2') })
    expect(again.body.messageId).toBe(first.body.messageId)
    expect(ably.requests).toBe(1)
  })

  it('the same key with a different body → 422 idempotency_mismatch, nothing published', async () => {
    const { app, ably } = gatewayApp()
    await publish(app, message, { headers: key('k-3') })
    const other = await publish(app, { ...message, data: smsMessage('alice', 'c1', { message: 'changed' }) }, { headers: key('k-3') })
    expect(other.status).toBe(422)
    expect(other.body.code).toBe('idempotency_mismatch')
    expect(ably.requests).toBe(1)
  })

  it('field order does not make a different body', async () => {
    const { app, ably } = gatewayApp()
    await publish(app, message, { headers: key('k-4') })
    const reordered = { data: Object.fromEntries(Object.entries(message.data).reverse()), eventName: message.eventName, channelName: message.channelName }
    expect((await publish(app, reordered, { headers: key('k-4') })).status).toBe(200)
    expect(ably.requests).toBe(1)
  })

  it('keys are per user: bob reusing alice’s key publishes his own message', async () => {
    const { app, ably } = gatewayApp()
    await publish(app, message, { headers: key('shared') })
    const bob = await publish(app, ownMessages('bob')[0], { headers: key('shared'), token: await appToken({ userId: 'bob' }) })
    expect(bob.status).toBe(200)
    expect(ably.requests).toBe(2)
  })

  it.each(['', ' ', 'a b', 'é', 'x'.repeat(256)])('a malformed key %j → 400', async (value) => {
    const { app } = gatewayApp()
    expect((await publish(app, message, { headers: key(value) })).status).toBe(400)
  })

  it('a single message sent with K#0 and a one-message batch sent with K are two requests, not a replay', async () => {
    const { app, ably } = gatewayApp()
    const single = await publish(app, message, { headers: key('K#0') })
    const batch = await publish(app, { messages: [message] }, { headers: key('K') })
    expect([single.status, batch.status]).toEqual([200, 200])
    expect(batch.res.headers.get('idempotent-replayed')).toBeNull()
    expect((batch.body.results as { messageId: string }[])[0]?.messageId).not.toBe(single.body.messageId)
    expect(ably.delivered).toHaveLength(2)
  })

  it('issue 11 #4: one key binds one canonical request across envelopes: a message alone, then as a one-message batch, is a replay', async () => {
    for (const [first, second] of [
      [message, { messages: [message] }],
      [{ messages: [message] }, message],
    ]) {
      const { app, ably, store } = gatewayApp()
      const a = await publish(app, first, { headers: key('K') })
      const b = await publish(app, second, { headers: key('K') })
      expect([a.status, b.status]).toEqual([200, 200])
      expect(b.res.headers.get('idempotent-replayed')).toBe('true')
      const ids = [a, b].map(({ body }) => (body.messageId ?? (body.results as { messageId: string }[])[0]?.messageId) as string)
      expect(ids[1]).toBe(ids[0])
      expect(await store.history({ channelName: message.channelName, limit: 10 })).toHaveLength(1)
      expect(ably.delivered).toHaveLength(1)
    }
  })

  it('issue 11 #4: the key of a message alone, reused for a batch that starts with it (or the other way round) → 422, never a second message', async () => {
    const [sms, contacts] = ownMessages()
    for (const [first, second] of [
      [sms, { messages: [sms, contacts] }],
      [{ messages: [sms, contacts] }, sms],
      [{ messages: [{ ...contacts, id: 'own' }, sms] }, contacts],
    ]) {
      const { app, ably } = gatewayApp()
      expect((await publish(app, first, { headers: key('K') })).status).toBe(200)
      const reused = await publish(app, second, { headers: key('K') })
      expect(reused.status).toBe(422)
      expect(reused.body.code).toBe('idempotency_mismatch')
      expect(ably.delivered).toHaveLength(Array.isArray((first as { messages?: unknown[] }).messages) ? 2 : 1)
    }
  })

  it('a replayed batch answers the original results; a longer batch with the same key → 422', async () => {
    const { app, ably } = gatewayApp()
    const messages = ownMessages()
    const first = await publish(app, { messages }, { headers: key('b-1') })
    const again = await publish(app, { messages }, { headers: key('b-1') })
    expect(again.body).toEqual(first.body)
    const longer = await publish(app, { messages: [...messages, messages[1]] }, { headers: key('b-1') })
    expect(longer.status).toBe(422)
    expect(ably.requests).toBe(1)
  })
})

describe('client message id', () => {
  it('a repeated id publishes once; the same id with another body → 422', async () => {
    const { app, ably } = gatewayApp()
    const first = await publish(app, { ...message, id: 'client-1' })
    const again = await publish(app, { ...message, id: 'client-1' })
    expect(again.body.messageId).toBe(first.body.messageId)
    expect(
      (
        await publish(app, {
          ...message,
          id: 'client-1',
          eventName: 'message_status',
          data: { messageId: 'm1', status: 'sent', timestamp: '2024-01-15T10:30:00Z' },
        })
      ).status,
    ).toBe(422)
    expect(ably.requests).toBe(1)
  })

  it('ids in a batch are independent: a new batch reusing one id only adds the others', async () => {
    const { app, ably } = gatewayApp()
    const [a, b] = ownMessages()
    await publish(app, { ...a, id: 'a' })
    const { body } = await publish(app, {
      messages: [
        { ...a, id: 'a' },
        { ...b, id: 'b' },
      ],
    })
    expect((body.results as { status: string }[]).map((result) => result.status)).toEqual(['published', 'published'])
    expect(ably.delivered).toHaveLength(2)
  })
})

describe('messages without a key', () => {
  it('are not looked up and get no fingerprint: their key is new, so nothing stored can hold it', async () => {
    const inner = createMemoryStore({ now: () => NOW })
    const lookups: string[][] = []
    const store: MessageStore = { ...inner, findByKeys: async (keys) => (lookups.push([...keys]), inner.findByKeys(keys)) }
    const { app } = gatewayApp({ store })
    const keyless = await publish(app, { messages: ownMessages() })
    expect(keyless.status).toBe(200)
    expect(lookups).toEqual([])
    const ids = (keyless.body.results as { messageId: string }[]).map((result) => result.messageId)
    expect((await inner.findByIds(ids)).map((doc) => doc.fingerprint)).toEqual(['', '', ''])

    const keyed = await publish(app, { messages: [{ ...message, id: 'with-id' }, ownMessages()[1]] })
    expect(keyed.status).toBe(200)
    expect(lookups).toEqual([['u:alice:id:with-id']])
  })
})

describe('concurrency', () => {
  it('10 concurrent identical requests store one message and deliver it once', async () => {
    const { app, ably, store } = gatewayApp()
    const token = await appToken()
    const responses = await Promise.all(Array.from({ length: 10 }, () => publish(app, message, { token, headers: key('same') })))
    const statuses = responses.map((response) => response.status)
    expect(statuses.every((status) => status === 200 || status === 409)).toBe(true)
    // Issue 11 #6: only a replay says so; a 409 (someone else is delivering it) never does.
    for (const response of responses.filter((response) => response.status === 409)) expect(response.res.headers.get('idempotent-replayed')).toBeNull()
    expect(statuses).toContain(200)
    const ids = new Set(responses.filter((response) => response.status === 200).map((response) => response.body.messageId))
    expect(ids.size).toBe(1)
    expect(await store.history({ channelName: message.channelName, limit: 100 })).toHaveLength(1)
    expect(ably.delivered).toHaveLength(1)
    // Whoever got a 409 retries and gets the original.
    expect((await publish(app, message, { token, headers: key('same') })).body.messageId).toBe([...ids][0])
  })

  it('a request that gave up (202) is taken over by the client retry, which delivers the same id', async () => {
    const { app, ably } = gatewayApp()
    ably.fail(ablyDown(), ablyDown(), ablyDown(), ablyDown())
    const first = await publish(app, message, { headers: key('slow') })
    expect(first.status).toBe(202)
    expect(first.body.status).toBe('queued')
    const retry = await publish(app, message, { headers: key('slow') })
    expect(retry.status).toBe(200)
    expect(retry.body.messageId).toBe(first.body.messageId)
    expect(ably.delivered).toHaveLength(1)
  })

  it('a request refused (422) because a concurrent one stored its key first fails what it inserted, so no sweeper publishes it', async () => {
    const clock = { now: NOW }
    const inner = createMemoryStore({ now: () => clock.now })
    const { app, ably, gateway } = gatewayApp({ store: lookupsInPairs(inner).store, now: () => clock.now })
    const [sms, contacts, notification] = ownMessages()
    const [a, b] = await Promise.all([
      publish(app, {
        messages: [
          { ...sms, id: 'x' },
          { ...contacts, id: 'y' },
        ],
      }),
      publish(app, {
        messages: [
          { ...notification, id: 'y' },
          { ...contacts, id: 'z' },
        ],
      }),
    ])
    // Either may store its keys first; the other is refused and fails its own new message (x or z).
    const { firstWon } = oneWinsOneMismatch(a, b)
    expect(ably.delivered.map((entry) => entry.channel)).toEqual([firstWon ? sms.channelName : notification.channelName, contacts.channelName])
    clock.now += 60_000
    expect((await gateway.sweep()).published).toBe(0)
    expect(ably.delivered).toHaveLength(2)
    const [refused] = await inner.findByKeys([firstWon ? 'u:alice:id:z' : 'u:alice:id:x'])
    expect(refused).toMatchObject({ status: 'failed', leaseOwner: null, lastError: expect.stringContaining('refused') })
    expect(await inner.history({ channelName: contacts.channelName, limit: 10 })).toHaveLength(1)
  })

  it('a retry whose takeover of a stored message fails still delivers the new ones and reports the stored one queued, not 503', async () => {
    const faulty = faultyStore()
    const { app, ably, logs } = gatewayApp({ store: faulty.store })
    const [a, b] = ownMessages()
    ably.fail(ablyDown(), ablyDown(), ablyDown(), ablyDown())
    const first = await publish(app, { ...a, id: 'a' })
    expect(first.status).toBe(202)
    faulty.state.failing.add('claim')
    const retry = await publish(app, {
      messages: [
        { ...a, id: 'a' },
        { ...b, id: 'b' },
      ],
    })
    expect(retry.status).toBe(202)
    const results = retry.body.results as { messageId: string; status: string }[]
    expect(results.map((result) => result.status)).toEqual(['queued', 'published'])
    expect(results[0]?.messageId).toBe(first.body.messageId)
    expect(ably.delivered.map((entry) => entry.message.id)).toEqual([results[1]?.messageId])
    expect(logs).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'adopt_failed' }))
  })

  it('two retries sent with the same X-Request-Id hold separate leases: only one takes the stored message over', async () => {
    const paired = lookupsInPairs(createMemoryStore({ now: () => NOW }))
    const { app, ably } = gatewayApp({ store: paired.store })
    ably.fail(ablyDown(), ablyDown(), ablyDown(), ablyDown())
    paired.state.on = false
    expect((await publish(app, message, { headers: key('shared-request-id') })).status).toBe(202)
    paired.state.on = true
    const headers = { ...key('shared-request-id'), 'X-Request-Id': 'client-chosen-id' }
    const retries = await Promise.all([publish(app, message, { headers }), publish(app, message, { headers })])
    expect(retries.map((retry) => retry.status).sort()).toEqual([200, 409])
    expect(ably.delivered).toHaveLength(1)
    expect(ably.droppedRepeats).toBe(0)
  })

  it('a retry of a message someone else is delivering right now → 409 with Retry-After, nothing published', async () => {
    const { app, ably, store } = gatewayApp()
    ably.fail(ablyDown(), ablyDown(), ablyDown(), ablyDown())
    const first = await publish(app, message, { headers: key('held') })
    const now = new Date(Date.UTC(2026, 0, 1))
    await store.claim({ owner: 'sweeper', now, leaseUntil: new Date(now.getTime() + 30_000), limit: 1, ids: [String(first.body.messageId)] })
    const retry = await publish(app, message, { headers: key('held') })
    expect(retry.status).toBe(409)
    expect(retry.body.code).toBe('idempotency_conflict')
    expect(retry.res.headers.get('retry-after')).toBe('1')
    // Issue 11 #6: a 409 is not a replay.
    expect(retry.res.headers.get('idempotent-replayed')).toBeNull()
    expect(ably.delivered).toHaveLength(0)
  })
})
