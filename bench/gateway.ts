/**
 * The publish gateway's numbers. `npx tsx bench/gateway.ts` prints one JSON line; `measureGateway` returns it.
 *
 *   overhead   in-process cost per message through `app.request()` (auth, checks, hashing, routing, store
 *              logic), with a no-op Ably port: once with the embedded mingo store, once with a store that does
 *              nothing, which leaves the gateway's own code. No Ably or MongoDB time in either.
 *   throughput single publishes against batches, through the gateway to the local hub over HTTP.
 *   faultRun   the end-to-end fault run's counts (hub restarted while publishing).
 */
import { pathToFileURL } from 'node:url'
import type { AblyRest } from '../src/ably-rest/index.ts'
import { createFetchAblyRest } from '../src/ably-rest/index.ts'
import { createApp } from '../src/app.ts'
import { parseGatewayConfig } from '../src/gateway/config.ts'
import { createGateway } from '../src/gateway/index.ts'
import { gatewayRoutes } from '../src/gateway/routes.ts'
import { createHub } from '../src/hub/index.ts'
import { silentLogger } from '../src/log/index.ts'
import type { MessageStore } from '../src/store/index.ts'
import { createMemoryStore } from '../src/store/memory.ts'
import { faultRun, type FaultRunReport } from '../tests/gateway/fault-run.ts'
import { appToken, bearer, testConfig } from '../tests/support/fixtures.ts'

export interface OverheadResult {
  store: 'embedded (mingo)' | 'no-op'
  requests: number
  p50Ms: number
  p99Ms: number
  meanMs: number
}

export interface ThroughputResult {
  messages: number
  batchSize: number
  single: { elapsedMs: number; messagesPerSecond: number; ablyRequests: number }
  batch: { elapsedMs: number; messagesPerSecond: number; ablyRequests: number }
  speedup: number
}

export interface GatewayBench {
  overhead: OverheadResult[]
  throughput: ThroughputResult
  faultRun: FaultRunReport
  node: string
}

const noopAbly: AblyRest = {
  time: async () => Date.now(),
  channelStatus: async () => ({ isActive: false }),
  publish: async () => {},
  batchPublish: async (specs) => specs.flatMap((spec) => spec.channels.map((channel) => ({ channel, messageId: spec.messages[0]?.id ?? '' }))),
  batchPresence: async (channels) => channels.map((channel) => ({ channel, members: [] })),
}

/** A store that stores nothing and always answers "new", leaving only the gateway's own work to measure. */
const noopStore: MessageStore = {
  init: async () => {},
  findByKeys: async () => [],
  findByIds: async () => [],
  insert: async (docs) => docs.map((doc) => ({ inserted: true, doc })),
  claim: async () => [],
  settle: async () => {},
  history: async () => [],
  reserve: async (_key, hits) => ({ granted: true, count: hits }),
  release: async () => {},
  outboxStats: async () => ({ pending: 0, oldestPendingAt: null, failed: 0 }),
  close: async () => {},
}

function counting(ably: AblyRest) {
  const counter = { requests: 0 }
  const port: AblyRest = {
    ...ably,
    publish: (...args) => ((counter.requests += 1), ably.publish(...args)),
    batchPublish: (...args) => ((counter.requests += 1), ably.batchPublish(...args)),
  }
  return { port, counter }
}

function gatewayAppWith(ably: AblyRest, store: MessageStore, restUrl = 'http://127.0.0.1:9') {
  const gateway = createGateway({ store, config: parseGatewayConfig({ PUBLISH_RATE_LIMIT: '1000000' }), ably, log: silentLogger })
  return createApp(testConfig({ ABLY_REST_URL: restUrl }), { ably, log: silentLogger, routes: [gatewayRoutes(gateway)] })
}

const message = (index: number, contactId = 'c1') => ({
  channelName: `sms:alice:${contactId}`,
  eventName: 'message',
  data: {
    contactId,
    userId: 'alice',
    phoneNumberId: 'p1',
    message: `message ${index} ${'x'.repeat(200)}`,
    direction: 'inbound',
    timestamp: '2024-01-15T10:30:00.000Z',
    from: '+1234567890',
    to: '+0987654321',
  },
})

async function liveToken() {
  const now = Math.floor(Date.now() / 1000)
  return bearer(await appToken({ iat: now, exp: now + 3600 }))
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
const round = (value: number) => Math.round(value * 1000) / 1000

/** Per-request latency of single publishes in process, after a warm-up. */
export async function measureOverhead(kind: OverheadResult['store'], requests = 3000): Promise<OverheadResult> {
  const app = gatewayAppWith(noopAbly, kind === 'no-op' ? noopStore : createMemoryStore())
  const headers = { ...(await liveToken()), 'Content-Type': 'application/json' }
  const send = async (index: number) => {
    const res = await app.request('/api/ably/publish', { method: 'POST', headers, body: JSON.stringify(message(index)) })
    if (res.status !== 200) throw new Error(`publish answered ${res.status}: ${await res.text()}`)
  }
  for (let index = 0; index < 300; index += 1) await send(-index)
  const times: number[] = []
  for (let index = 0; index < requests; index += 1) {
    const started = performance.now()
    await send(index)
    times.push(performance.now() - started)
  }
  times.sort((a, b) => a - b)
  return {
    store: kind,
    requests,
    p50Ms: round(percentile(times, 50)),
    p99Ms: round(percentile(times, 99)),
    meanMs: round(times.reduce((sum, time) => sum + time, 0) / times.length),
  }
}

/** The same messages through the gateway to the local hub: one request each, then batches of `batchSize`. */
export async function measureThroughput(messages = 500, batchSize = 50): Promise<ThroughputResult> {
  const key = testConfig().ably.key
  const hub = createHub({ keys: [{ name: key.name, secret: key.secret }] })
  const { url } = await hub.listen(0)
  try {
    const headers = { ...(await liveToken()), 'Content-Type': 'application/json' }
    const run = async (bodies: unknown[]) => {
      const { port, counter } = counting(createFetchAblyRest({ key, restUrl: url }))
      const app = gatewayAppWith(port, createMemoryStore(), url)
      const started = performance.now()
      for (const body of bodies) {
        const res = await app.request('/api/ably/publish', { method: 'POST', headers, body: JSON.stringify(body) })
        if (res.status !== 200) throw new Error(`publish answered ${res.status}: ${await res.text()}`)
      }
      const elapsedMs = performance.now() - started
      return { elapsedMs: Math.round(elapsedMs), messagesPerSecond: Math.round((messages / elapsedMs) * 1000), ablyRequests: counter.requests }
    }
    const all = Array.from({ length: messages }, (_, index) => message(index, `c${index % 10}`))
    const single = await run(all)
    const batches = Array.from({ length: Math.ceil(messages / batchSize) }, (_, index) => ({ messages: all.slice(index * batchSize, (index + 1) * batchSize) }))
    const batch = await run(batches)
    return { messages, batchSize, single, batch, speedup: Math.round((batch.messagesPerSecond / single.messagesPerSecond) * 10) / 10 }
  } finally {
    await hub.close()
  }
}

/** Everything, bounded well under a minute. */
export async function measureGateway(): Promise<GatewayBench> {
  const overhead = [await measureOverhead('no-op'), await measureOverhead('embedded (mingo)')]
  const throughput = await measureThroughput()
  const fault = await faultRun({ messages: 100, outages: 5 })
  return { overhead, throughput, faultRun: fault, node: process.version }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify({ bench: 'gateway', ...(await measureGateway()) }))
}
