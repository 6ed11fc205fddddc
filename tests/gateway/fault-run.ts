/**
 * The fault run: N messages published through the gateway while the local hub is stopped and restarted several
 * times, received by a real `ably` Realtime subscriber that got its token from our own `/api/ably/token`. Counts
 * what was accepted, delivered, lost and duplicated. Shared by the end-to-end test and `bench/gateway.ts`.
 */
import * as Ably from 'ably'
import { createFetchAblyRest } from '../../src/ably-rest/index.ts'
import { createApp } from '../../src/app.ts'
import { parseGatewayConfig } from '../../src/gateway/config.ts'
import { createGateway } from '../../src/gateway/index.ts'
import { gatewayRoutes } from '../../src/gateway/routes.ts'
import { createHub } from '../../src/hub/index.ts'
import { silentLogger } from '../../src/log/index.ts'
import { edgeRoutes } from '../../src/routes/index.ts'
import { createMemoryStore } from '../../src/store/memory.ts'
import { appToken, bearer, testConfig } from '../support/fixtures.ts'

export interface FaultRunOptions {
  messages?: number
  /** How many times the hub is stopped and started again while messages are published. */
  outages?: number
  /** How long each outage lasts. */
  outageMs?: number
  /** Hub up-time between outages. */
  upMs?: number
  /** Pause between two publishes. */
  gapMs?: number
  useBinaryProtocol?: boolean
  /** Give up waiting for deliveries after this long once publishing is done. */
  settleTimeoutMs?: number
  /** Identical requests (one Idempotency-Key) sent at once before the run. */
  burst?: number
}

export interface FaultRunReport {
  messages: number
  outages: number
  /** Publish requests answered 2xx: 200 published, 202 queued. */
  accepted: number
  published200: number
  queued202: number
  /** Responses that were not 2xx even after the client's retries. */
  refused: number
  /** Accepted messages the subscriber received. */
  delivered: number
  lost: number
  /** Deliveries of an id already received (what a subscriber's dedup by id removes). */
  duplicateDeliveries: number
  /** Messages that reached the subscriber under more than one id: duplicates dedup by id could not remove. */
  duplicatesAfterDedup: number
  /** Sweeps that found something to do. */
  sweepsWithWork: number
  /** The burst of identical requests: their statuses, messages stored, and deliveries to the subscriber. */
  burst: { statuses: Record<string, number>; stored: number; deliveries: number }
  durationMs: number
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export async function faultRun({
  messages = 100,
  outages = 5,
  outageMs = 300,
  upMs = 300,
  gapMs = 15,
  useBinaryProtocol = true,
  settleTimeoutMs = 20_000,
  burst = 10,
}: FaultRunOptions = {}): Promise<FaultRunReport> {
  const started = Date.now()
  const key = testConfig().ably.key
  const hub = createHub({ keys: [{ name: key.name, secret: key.secret }], sweepIntervalMs: 50 })
  const { port, url } = await hub.listen(0)

  const config = testConfig({ ABLY_REST_URL: url })
  const defaults = parseGatewayConfig({ PUBLISH_RATE_LIMIT: '0', PUBLISH_DELIVERY_BUDGET_MS: '400' })
  // Short waits, so the run takes seconds: the shape of the retries is the production one.
  const gatewayConfig = {
    ...defaults,
    retry: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 200 },
    outbox: { ...defaults.outbox, leaseMs: 5000, runBudgetMs: 2000, baseDelayMs: 100, maxDelayMs: 400 },
  }
  const ably = createFetchAblyRest({ key, restUrl: url, timeoutMs: 1000 })
  const store = createMemoryStore()
  const gateway = createGateway({ store, config: gatewayConfig, ably, log: silentLogger })
  const app = createApp(config, { ably, log: silentLogger, routes: [...edgeRoutes, gatewayRoutes(gateway)] })

  const nowSec = () => Math.floor(Date.now() / 1000)
  const token = await appToken({ iat: nowSec(), exp: nowSec() + 3600 })
  const subscriber = new Ably.Realtime({
    endpoint: 'localhost',
    port,
    tls: false,
    useBinaryProtocol,
    logLevel: 0,
    disconnectedRetryTimeout: 100,
    suspendedRetryTimeout: 100,
    authCallback: (_params, callback) => {
      Promise.resolve(app.request('/api/ably/token', { method: 'POST', headers: bearer(token) }))
        .then(async (res) => callback(null, ((await res.json()) as { token: string }).token))
        .catch((error: unknown) => callback(String(error), null))
    },
  })

  const channels = ['sms:alice:c1', 'sms:alice:c2']
  const received: { id: string; index: number }[] = []
  // The burst goes to its own channel; its text `m-1` reads as index -1.
  await Promise.all(
    [...channels, 'sms:alice:c3'].map((name) =>
      subscriber.channels.get(name).subscribe((message) => {
        received.push({ id: String(message.id), index: Number(String((message.data as { message: string }).message).slice(1)) })
      }),
    ),
  )

  const post = (body: string, idempotencyKey: string) =>
    Promise.resolve(
      app.request('/api/ably/publish', {
        method: 'POST',
        headers: { ...bearer(token), 'Content-Type': 'application/json', 'Idempotency-Key': idempotencyKey },
        body,
      }),
    )
  const messageBody = (channelName: string, text: string) =>
    JSON.stringify({
      channelName,
      eventName: 'message',
      data: {
        contactId: channelName.split(':')[2],
        userId: 'alice',
        phoneNumberId: 'p1',
        message: text,
        direction: 'inbound',
        timestamp: new Date().toISOString(),
      },
    })

  const burstBody = messageBody('sms:alice:c3', 'm-1')
  const burstResponses = await Promise.all(Array.from({ length: burst }, () => post(burstBody, 'burst')))
  const burstStatuses: Record<string, number> = {}
  for (const res of burstResponses) burstStatuses[res.status] = (burstStatuses[res.status] ?? 0) + 1
  const burstStored = (await store.history({ channelName: 'sms:alice:c3', limit: 100 })).length
  const burstId = burstStored === 1 ? (await store.history({ channelName: 'sms:alice:c3', limit: 1 }))[0]?._id : undefined

  let sweepsWithWork = 0
  let sweeping = true
  const sweeper = (async () => {
    while (sweeping) {
      const report = await gateway.sweep().catch(() => undefined)
      if (report && report.claimed > 0) sweepsWithWork += 1
      await sleep(100)
    }
  })()

  let publishing = true
  const faults = (async () => {
    for (let outage = 0; outage < outages && publishing; outage += 1) {
      await sleep(upMs)
      await hub.close()
      await sleep(outageMs)
      await hub.listen(port)
    }
  })()

  const accepted = new Map<number, string>()
  let published200 = 0
  let queued202 = 0
  let refused = 0
  for (let index = 0; index < messages; index += 1) {
    const body = messageBody(channels[index % channels.length] as string, `m${index}`)
    let status = 0
    // A client retries 5xx and 409 with the same key, as the Retry-After header invites.
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const res = await post(body, `run-${index}`)
      status = res.status
      const json = (await res.json()) as { messageId?: string }
      if (status === 200 || status === 202) {
        accepted.set(index, String(json.messageId))
        break
      }
      await sleep(100)
    }
    if (status === 200) published200 += 1
    else if (status === 202) queued202 += 1
    else refused += 1
    await sleep(gapMs)
  }
  publishing = false
  await faults

  const deadline = Date.now() + settleTimeoutMs
  const wanted = new Set([...accepted.values(), ...(burstId === undefined ? [] : [burstId])])
  while (Date.now() < deadline && [...wanted].some((id) => !received.some((message) => message.id === id))) await sleep(50)
  sweeping = false
  await sweeper

  const uniqueIds = new Set(received.map((message) => message.id))
  const idsPerIndex = new Map<number, Set<string>>()
  for (const { id, index } of received) if (index >= 0) idsPerIndex.set(index, (idsPerIndex.get(index) ?? new Set()).add(id))
  const delivered = [...accepted.values()].filter((id) => uniqueIds.has(id)).length
  const burstDeliveries = received.filter((message) => message.id === burstId).length
  const fromRun = received.filter((message) => message.index >= 0)

  subscriber.close()
  await gateway.close()
  await hub.close()
  return {
    messages,
    outages,
    accepted: accepted.size,
    published200,
    queued202,
    refused,
    delivered,
    lost: accepted.size - delivered,
    duplicateDeliveries: fromRun.length - new Set(fromRun.map((message) => message.id)).size,
    duplicatesAfterDedup: [...idsPerIndex.values()].filter((ids) => ids.size > 1).length,
    sweepsWithWork,
    burst: { statuses: burstStatuses, stored: burstStored, deliveries: burstDeliveries },
    durationMs: Date.now() - started,
  }
}
