/** Faults on the publish path, injected through the Ably and store ports: each test names the fault, then what must hold. */
import { describe, expect, it } from 'vitest'
import { createFetchAblyRest } from '../../src/ably-rest/index.ts'
import { createDelivery } from '../../src/gateway/delivery.ts'
import { prepareMessages } from '../../src/gateway/prepare.ts'
import { createStoreThenDeliver } from '../../src/gateway/store-then-deliver.ts'
import { createMemoryStore } from '../../src/store/memory.ts'
import { appToken, NOW } from '../support/fixtures.ts'
import {
  ably400,
  ably429,
  ably503,
  ablyDown,
  faultyStore,
  gatewayApp,
  ownMessages,
  publish,
  scriptedAbly,
  slowStore,
  type GatewayAppOptions,
} from './support.ts'

const message = ownMessages()[0]

/** An app token valid on the real clock, for tests that run on it. */
async function liveToken() {
  const nowSec = Math.floor(Date.now() / 1000)
  return appToken({ iat: nowSec, exp: nowSec + 600 })
}

/** A clock the test moves. */
function clock(start = NOW) {
  const state = { now: start }
  return { now: () => state.now, advance: (ms: number) => void (state.now += ms) }
}

describe('Ably faults', () => {
  it('D01: no fault → 200, Ably has exactly one message with id = messageId, the outbox entry is published', async () => {
    const { app, ably, store } = gatewayApp()
    const { status, body } = await publish(app, message)
    expect(status).toBe(200)
    expect(ably.delivered.map((entry) => entry.message.id)).toEqual([body.messageId])
    expect((await store.findByIds([String(body.messageId)]))[0]?.status).toBe('published')
  })

  it('D02: Ably 503 once → retried with the same id → one message', async () => {
    const { app, ably, store, sleeps } = gatewayApp({ ably: scriptedAbly([ably503()]) })
    const { status, body } = await publish(app, message)
    expect(status).toBe(200)
    expect(ably.requests).toBe(2)
    expect(ably.delivered.map((entry) => entry.message.id)).toEqual([body.messageId])
    expect((await store.findByIds([String(body.messageId)]))[0]).toMatchObject({ status: 'published', attempts: 2 })
    // Full jitter over 100 ms (random() is 0.5 here).
    expect(sleeps).toEqual([50])
  })

  it('D03: Ably hangs → our deadline cuts the request (202 well under 8 s), the sweeper delivers the same id once', async () => {
    const { app, ably, gateway } = gatewayApp({ ably: scriptedAbly(['hang']), env: { PUBLISH_DELIVERY_BUDGET_MS: '150' }, now: Date.now })
    const started = Date.now()
    const nowSec = Math.floor(started / 1000)
    const { status, body } = await publish(app, message, { token: await appToken({ iat: nowSec, exp: nowSec + 600 }) })
    expect(status).toBe(202)
    expect(Date.now() - started).toBeLessThan(8000)
    expect(ably.delivered).toHaveLength(0)
    await gateway.sweep()
    expect(ably.delivered.map((entry) => entry.message.id)).toEqual([body.messageId])
  })

  it('D04: Ably takes the message but the response is lost → the retry carries the same id and Ably drops it', async () => {
    const { app, ably } = gatewayApp({ ably: scriptedAbly(['lost']) })
    const { status, body } = await publish(app, message)
    expect(status).toBe(200)
    expect(ably.delivered.map((entry) => entry.message.id)).toEqual([body.messageId])
    expect(ably.droppedRepeats).toBe(1)
  })

  it('D05: Ably down for 5 minutes → 202 queued at once; sweeps while down keep it; sweeps after recovery deliver it, backoff-capped', async () => {
    const time = clock()
    const { app, ably, gateway, store } = gatewayApp({ now: time.now })
    ably.state.down = true
    const accepted = await Promise.all([publish(app, message), publish(app, ownMessages()[1]), publish(app, ownMessages()[2])])
    expect(accepted.map((response) => [response.status, response.body.status])).toEqual([
      [202, 'queued'],
      [202, 'queued'],
      [202, 'queued'],
    ])
    for (let minute = 1; minute <= 5; minute += 1) {
      time.advance(60_000)
      expect((await gateway.sweep()).published).toBe(0)
    }
    ably.state.down = false
    let published = 0
    let minutes = 0
    while (published < 3 && minutes < 6) {
      time.advance(60_000)
      minutes += 1
      published += (await gateway.sweep()).published
    }
    expect(published).toBe(3)
    // The first sweep after recovery probes with one postponed message, sees Ably back and delivers the rest.
    expect(minutes).toBe(1)
    expect(ably.delivered.map((entry) => entry.message.id).sort()).toEqual(accepted.map((response) => response.body.messageId).sort())
    const docs = await store.findByIds(accepted.map((response) => String(response.body.messageId)))
    expect(docs.every((doc) => doc.status === 'published')).toBe(true)
  })

  it('D06: Ably 4xx → no retry, the message is failed and logged as an error, never delivered, never swept', async () => {
    const time = clock()
    const { app, ably, logs, store, gateway } = gatewayApp({ ably: scriptedAbly([ably400()]), now: time.now })
    const { status, body } = await publish(app, message, { headers: { 'Idempotency-Key': 'rejected' } })
    expect(status).toBe(502)
    expect(body.code).toBe('publish_rejected')
    expect(ably.requests).toBe(1)
    const messageId = (body.details as { messageId: string }).messageId
    expect((await store.findByIds([messageId]))[0]).toMatchObject({ status: 'failed', attempts: 1, lastError: expect.stringContaining('40010') })
    expect(logs).toContainEqual(expect.objectContaining({ level: 'error', msg: 'publish_rejected', messageId, ablyCode: 40010 }))
    time.advance(120_000)
    expect((await gateway.sweep()).claimed).toBe(0)
    expect(ably.requests).toBe(1)
    // A retry of the same key replays the failure without publishing.
    const replay = await publish(app, message, { headers: { 'Idempotency-Key': 'rejected' } })
    expect([replay.status, replay.body.code]).toEqual([502, 'publish_rejected'])
    expect(ably.requests).toBe(1)
  })

  it('while Ably stays down, a sweep with nothing due spends one probe request, not one per postponed message', async () => {
    const time = clock()
    const { app, ably, gateway } = gatewayApp({ now: time.now })
    ably.state.down = true
    for (const body of ownMessages()) expect((await publish(app, body)).status).toBe(202)
    time.advance(60_000)
    await gateway.sweep() // the messages are due: one round of attempts, then each is postponed
    const before = ably.requests
    time.advance(1000) // nothing is due yet
    expect(await gateway.sweep()).toMatchObject({ claimed: 1, published: 0, pending: 1 })
    expect(ably.requests - before).toBeLessThanOrEqual(4) // one message, at most one round of retries
  })

  it('D07: Ably 429 → backoff honours Retry-After, then delivered', async () => {
    const { app, ably, sleeps } = gatewayApp({ ably: scriptedAbly([ably429(1)]) })
    const { status } = await publish(app, message)
    expect(status).toBe(200)
    expect(sleeps).toEqual([1000])
    expect(ably.delivered).toHaveLength(1)
  })

  it('retries are bounded: four attempts, growing backoff, then 202 queued for the sweeper', async () => {
    const { app, ably, sleeps, store } = gatewayApp({ ably: scriptedAbly([ably503(), ably503(), ably503(), ably503()]) })
    const { status, body } = await publish(app, message)
    expect(status).toBe(202)
    expect(ably.requests).toBe(4)
    expect(sleeps).toEqual([50, 100, 200])
    expect((await store.findByIds([String(body.messageId)]))[0]).toMatchObject({
      status: 'pending',
      attempts: 4,
      leaseOwner: null,
      lastError: expect.stringContaining('503'),
    })
  })
})

/** An app on a moving clock whose store misbehaves on `insert` in `mode`; `inner` is the store underneath. */
function appWithFaultyInsert(mode: 'late' | 'landed', tune?: GatewayAppOptions['tune']) {
  const time = clock()
  const inner = createMemoryStore()
  const faulty = faultyStore(inner, mode, 100)
  faulty.state.failing.add('insert')
  return { time, inner, faulty, ...gatewayApp({ store: faulty.store, now: time.now, ...(tune && { tune }) }) }
}

describe('store faults', () => {
  it('D08: MongoDB unreachable → 503 with Retry-After, and nothing is published', async () => {
    const faulty = faultyStore()
    faulty.state.failing.add('*')
    const { app, ably } = gatewayApp({ store: faulty.store })
    const { status, body, res } = await publish(app, message)
    expect(status).toBe(503)
    expect(body.code).toBe('store_unavailable')
    expect(res.headers.get('retry-after')).toBe('5')
    expect(JSON.stringify(body)).not.toMatch(/mongo/i)
    expect(ably.requests).toBe(0)
  })

  it.each(['findByKeys', 'insert', 'reserve'])('D08: the store failing on %s → 503, nothing published', async (call) => {
    const faulty = faultyStore()
    faulty.state.failing.add(call)
    const { app, ably } = gatewayApp({ store: faulty.store })
    // With a key, so that it is looked up (a message without one has a new key, and nothing to look up).
    expect((await publish(app, message, { headers: { 'Idempotency-Key': `d08-${call}` } })).status).toBe(503)
    expect(ably.requests).toBe(0)
  })

  it('D09: a slow store → 503 before the deadline; the insert lands later and the client retry delivers that one message', async () => {
    const { app, ably, time, inner, faulty } = appWithFaultyInsert('late', (config) => ({ ...config, storeTimeoutMs: 30 }))
    const first = await publish(app, message, { headers: { 'Idempotency-Key': 'slow-insert' } })
    expect(first.status).toBe(503)
    await new Promise((resolve) => setTimeout(resolve, 150))
    faulty.state.failing.clear()
    expect(await inner.history({ channelName: message.channelName, limit: 10 })).toHaveLength(1)
    // The dead request's lease keeps others off for a while; after it, the retry takes over.
    expect((await publish(app, message, { headers: { 'Idempotency-Key': 'slow-insert' } })).status).toBe(409)
    time.advance(11_000)
    const retry = await publish(app, message, { headers: { 'Idempotency-Key': 'slow-insert' } })
    expect(retry.status).toBe(200)
    expect(await inner.history({ channelName: message.channelName, limit: 10 })).toHaveLength(1)
    expect(ably.delivered).toHaveLength(1)
  })

  it('D09: a slow store that leaves too little time to store → 503 before the deadline, nothing stored or published (was 504 after publishing)', async () => {
    const inner = createMemoryStore()
    const store = slowStore(inner, { reserve: 800, findByKeys: 800, insert: 800, settle: 800 })
    const { app, ably } = gatewayApp({ store, now: Date.now, deadlineMs: 3000, tune: (config) => ({ ...config, storeTimeoutMs: 900 }) })
    const started = Date.now()
    const { status, body } = await publish(app, message, { token: await liveToken(), headers: { 'Idempotency-Key': 'slow-lookup' } })
    expect([status, body.code]).toEqual([503, 'store_unavailable'])
    expect(Date.now() - started).toBeLessThan(3000)
    await new Promise((resolve) => setTimeout(resolve, 900))
    expect(await inner.history({ channelName: message.channelName, limit: 10 })).toHaveLength(0)
    expect(ably.requests).toBe(0)
  })

  it('D09: delivery stops a store call before the deadline, so a slow settle still fits: 202 queued, not 504', async () => {
    const inner = createMemoryStore()
    const { app, ably, gateway } = gatewayApp({
      store: slowStore(inner, { settle: 1100 }),
      ably: scriptedAbly(['hang']),
      now: Date.now,
      deadlineMs: 2500,
      tune: (config) => ({ ...config, storeTimeoutMs: 1200 }),
    })
    const started = Date.now()
    const { status, body } = await publish(app, message, { token: await liveToken() })
    expect([status, body.status]).toEqual([202, 'queued'])
    expect(Date.now() - started).toBeLessThan(2500)
    expect((await inner.findByIds([String(body.messageId)]))[0]).toMatchObject({ status: 'pending', leaseOwner: null })
    await gateway.sweep()
    expect(ably.delivered.map((entry) => entry.message.id)).toEqual([body.messageId])
  })

  it('D10: an insert whose acknowledgement is lost → 503; the retry finds the one document and never makes a second', async () => {
    const { app, ably, time, inner, faulty } = appWithFaultyInsert('landed')
    expect((await publish(app, message, { headers: { 'Idempotency-Key': 'step-down' } })).status).toBe(503)
    faulty.state.failing.clear()
    time.advance(11_000)
    expect((await publish(app, message, { headers: { 'Idempotency-Key': 'step-down' } })).status).toBe(200)
    expect(await inner.history({ channelName: message.channelName, limit: 10 })).toHaveLength(1)
    expect(ably.delivered).toHaveLength(1)
  })

  it('D11: a crash after the insert, before the publish → the sweeper publishes it within one schedule period', async () => {
    const time = clock()
    const { gateway, ably, store } = gatewayApp({ now: time.now })
    const crashing = createStoreThenDeliver({
      store,
      delivery: { deliver: () => Promise.reject(new Error('process killed')) },
      now: time.now,
      budgetMs: 3000,
      leaseMs: 10_000,
    })
    const prepared = await prepareMessages([message], false, { caller: { kind: 'server' }, requestKey: undefined, maxMessageBytes: 65_536, newKey: () => 'k' })
    await expect(crashing(prepared, { owner: 'req:dead', publisherId: 'alice' })).rejects.toThrow('process killed')
    expect((await gateway.sweep()).claimed).toBe(0)
    time.advance(60_000)
    expect(await gateway.sweep()).toMatchObject({ claimed: 1, published: 1 })
    expect(ably.delivered).toHaveLength(1)
  })

  it('D12: a crash after the publish, before it is marked → the sweeper republishes the same id, dropped as a repeat', async () => {
    const time = clock()
    const inner = createMemoryStore()
    const faulty = faultyStore(inner)
    faulty.state.failing.add('settle')
    const { app, ably, gateway, logs } = gatewayApp({ store: faulty.store, now: time.now })
    const { status, body } = await publish(app, message)
    // Ably has it, so the caller is told so, even though it is not yet recorded.
    expect(status).toBe(200)
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'settle_failed' }))
    faulty.state.failing.clear()
    time.advance(60_000)
    expect(await gateway.sweep()).toMatchObject({ claimed: 1, published: 1 })
    expect(ably.delivered.map((entry) => entry.message.id)).toEqual([body.messageId])
    expect(ably.droppedRepeats).toBe(1)
    expect((await inner.findByIds([String(body.messageId)]))[0]?.status).toBe('published')
  })

  it('D15: two sweepers at once → each message is claimed and published once', async () => {
    const time = clock()
    const { app, ably, gateway } = gatewayApp({ now: time.now })
    ably.state.down = true
    const bodies = Array.from({ length: 30 }, (_, index) => ({ ...message, id: `m${index}` }))
    for (const body of bodies) expect((await publish(app, body)).status).toBe(202)
    ably.state.down = false
    time.advance(60_000)
    const reports = await Promise.all([gateway.sweep(), gateway.sweep()])
    expect(reports.reduce((sum, report) => sum + report.published, 0)).toBe(30)
    expect(ably.delivered).toHaveLength(30)
    expect(ably.droppedRepeats).toBe(0)
  })

  it('an expired message (past OUTBOX_MAX_AGE_SEC) is failed and logged, not published', async () => {
    const time = clock()
    const { app, ably, gateway, logs } = gatewayApp({ now: time.now, env: { OUTBOX_MAX_AGE_SEC: '3600' } })
    ably.state.down = true
    await publish(app, message)
    ably.state.down = false
    time.advance(3_601_000)
    expect(await gateway.sweep()).toMatchObject({ expired: 1, published: 0 })
    expect(logs).toContainEqual(expect.objectContaining({ level: 'error', msg: 'outbox_expired' }))
    expect(ably.delivered).toHaveLength(0)
  })
})

describe('delivery requests', () => {
  it('stops waiting for a settle that outlasts settleBy: the outcomes come back, the failure is logged', async () => {
    const ably = scriptedAbly()
    const logs: unknown[] = []
    const store = { ...createMemoryStore(), settle: () => new Promise<never>(() => {}) }
    const delivery = createDelivery({
      ably: ably.port,
      store,
      log: (entry) => logs.push(entry),
      now: Date.now,
      retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
      maxRequestBytes: 65_536,
      postponeMs: () => 0,
    })
    const outcome = delivery.deliver([docFor(0)], { owner: 'o', deadlineAt: Date.now() + 1000, settleBy: Date.now() + 50 })
    const settled = await Promise.race([outcome, new Promise((resolve) => setTimeout(() => resolve('still waiting'), 1000))])
    expect(settled).toEqual(new Map([['d0', 'published']]))
    expect(logs).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'settle_failed' }))
  })

  it('sends one Ably request per run of messages adding up to at most 64 KiB, one batch spec per message', async () => {
    const ably = scriptedAbly()
    const store = createMemoryStore()
    const delivery = createDelivery({
      ably: ably.port,
      store,
      log: () => {},
      now: () => NOW,
      retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
      maxRequestBytes: 65_536,
      postponeMs: () => 0,
    })
    const docs = Array.from({ length: 9 }, (_, index) => ({ ...docFor(index), size: 30_000 }))
    await store.insert(docs)
    const outcomes = await delivery.deliver(docs, { owner: 'o', deadlineAt: NOW + 1000 })
    expect([...outcomes.values()].every((outcome) => outcome === 'published')).toBe(true)
    expect(ably.requests).toBe(5)
  })
})

function docFor(index: number) {
  const at = new Date(NOW)
  return {
    _id: `d${index}`,
    idempotencyKey: `k${index}`,
    fingerprint: 'f',
    channelName: 'sms:alice:c1',
    ownerId: 'alice',
    publisherId: 'alice',
    eventName: 'message',
    data: { n: index },
    size: 10,
    status: 'pending' as const,
    attempts: 0,
    seq: `${index}`,
    createdAt: at,
    updatedAt: at,
    nextAttemptAt: at,
    publishedAt: null,
    settledAt: null,
    leaseOwner: 'o',
    leaseUntil: new Date(NOW + 10_000),
    lastError: null,
  }
}

describe('Ably partial batch failure (400, code 40020, per-item results)', () => {
  /** Ably's answer when some items of a batch failed: the error, and each item's own result in request order. */
  function partialFailure(codeIn: 'body' | 'header', specs: { channels: string[]; messages: { id: string }[] }[]) {
    const results = specs.map((spec, index) => {
      const channel = spec.channels[0]
      if (index === 1) return { channel, error: { code: 42910, statusCode: 429, message: 'Rate limit exceeded' } }
      if (index === 2) return { channel, error: { code: 40010, statusCode: 400, message: 'Invalid channel name' } }
      return { channel, messageId: `${spec.messages[0]?.id}` }
    })
    const batchResponse = [{ successCount: 1, failureCount: 2, results }]
    const error = { message: 'Batched response includes errors', statusCode: 400, ...(codeIn === 'body' && { code: 40020 }) }
    return new Response(JSON.stringify({ error, batchResponse }), {
      status: 400,
      headers: { 'content-type': 'application/json', ...(codeIn === 'header' && { 'x-ably-errorcode': '40020' }) },
    })
  }

  it.each(['body', 'header'] as const)(
    'with the code in the %s: the accepted item is published, the 429 retried and published, only the 400 failed',
    async (codeIn) => {
      const requests: string[] = []
      const fetch = async (url: RequestInfo | URL, init?: RequestInit) => {
        requests.push(new URL(String(url)).pathname)
        if (requests.length === 1) return partialFailure(codeIn, JSON.parse(String(init?.body)))
        return new Response('', { status: 201 })
      }
      const port = createFetchAblyRest({ key: { appId: 'app', name: 'app.key', secret: 'secret' }, restUrl: 'http://ably.test', fetch })
      const { app, store } = gatewayApp({ port })
      const { status, body } = await publish(app, { messages: ownMessages() })
      expect(status).toBe(200)
      const results = body.results as { messageId: string; status: string; code?: string }[]
      expect(results.map((result) => [result.status, result.code])).toEqual([
        ['published', undefined],
        ['published', undefined],
        ['failed', 'publish_rejected'],
      ])
      expect(body.success).toBe(false)
      // One batch, then the rate-limited message alone.
      expect(requests).toEqual(['/messages', `/channels/${encodeURIComponent(ownMessages()[1].channelName)}/messages`])
      const docs = new Map((await store.findByIds(results.map((result) => result.messageId))).map((doc) => [doc._id, doc]))
      expect(results.map((result) => docs.get(result.messageId))).toMatchObject([
        { status: 'published', attempts: 1 },
        { status: 'published', attempts: 2 },
        { status: 'failed', attempts: 1, lastError: expect.stringContaining('40010') },
      ])
    },
  )

  it('a 400 without code 40020 still fails the whole batch, as before', async () => {
    const fetch = async () => new Response(JSON.stringify({ error: { code: 40000, statusCode: 400, message: 'Bad request' } }), { status: 400 })
    const port = createFetchAblyRest({ key: { appId: 'app', name: 'app.key', secret: 'secret' }, restUrl: 'http://ably.test', fetch })
    const { app } = gatewayApp({ port })
    const { body } = await publish(app, { messages: ownMessages().slice(0, 2) })
    expect((body.results as { status: string }[]).map((result) => result.status)).toEqual(['failed', 'failed'])
  })
})

describe('ably errors keep their meaning', () => {
  it('a network error and a 429 are retried, a 4xx is not', () => {
    expect(ablyDown().retryable).toBe(true)
    expect(ably429().retryable).toBe(true)
    expect(ably503().retryable).toBe(true)
    expect(ably400().retryable).toBe(false)
  })
})
