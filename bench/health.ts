/**
 * `npx tsx bench/health.ts`: the latency of `GET /api/ably/health` and of each of its checks, as an admin sees them, on
 * loopback: Ably's check against the local hub over HTTP, the store's against the embedded (mingo) store holding 0 and
 * then 10,000 messages (a backlog). A measurement for the README, not a goal; MongoDB is not reachable here.
 */
import { createFetchAblyRest } from '../src/ably-rest/index.ts'
import { createApp } from '../src/app.ts'
import { parseConfig } from '../src/config/parse.ts'
import { parseGatewayConfig } from '../src/gateway/config.ts'
import { createGateway } from '../src/gateway/index.ts'
import { healthRoutes } from '../src/health/routes.ts'
import { createHub } from '../src/hub/index.ts'
import { mintAppToken } from '../src/local/mint-app-token.ts'
import type { MessageDoc } from '../src/store/index.ts'
import { createMemoryStore } from '../src/store/memory.ts'

const ROUNDS = 200
const key = { name: 'bench.key', secret: 'bench-secret-0123456789abcdefghij' }
const jwtSecret = 'bench-jwt-secret-0123456789-abcdefghijklmnopqrstuvwxyz'
const hub = createHub({ keys: [key] })
const { url } = await hub.listen(0)
const config = parseConfig({ ABLY_API_KEY: `${key.name}:${key.secret}`, JWT_SECRET: jwtSecret, ABLY_REST_URL: url, ABLY_ADMIN_ROLES: 'admin' })
const admin = { Authorization: `Bearer ${await mintAppToken(jwtSecret, { userId: 'ops', role: 'admin' })}` }

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))] ?? NaN
const ms = (value: number) => `${value.toFixed(2)} ms`

function backlog(count: number): MessageDoc[] {
  const now = Date.now()
  return Array.from({ length: count }, (_, i) => {
    const at = new Date(now - (count - i) * 1000)
    const status = i % 10 === 0 ? 'failed' : i % 3 === 0 ? 'pending' : 'published'
    return {
      _id: `m${i}`,
      idempotencyKey: `k${i}`,
      fingerprint: 'f',
      channelName: `sms:u${i % 50}:c1`,
      ownerId: `u${i % 50}`,
      publisherId: 'server',
      eventName: 'message',
      data: { n: i },
      size: 20,
      status,
      attempts: 1,
      seq: `${String(at.getTime()).padStart(15, '0')}:0:m${i}`,
      createdAt: at,
      updatedAt: at,
      nextAttemptAt: at,
      publishedAt: status === 'published' ? at : null,
      settledAt: status === 'pending' ? null : at,
      leaseOwner: null,
      leaseUntil: null,
      lastError: null,
    }
  })
}

for (const size of [0, 10_000]) {
  const store = createMemoryStore()
  await store.insert(backlog(size))
  const ably = createFetchAblyRest(config.ably)
  const gateway = createGateway({ store, config: parseGatewayConfig({}), ably, log: () => {} })
  const app = createApp(config, { ably, log: () => {}, routes: [healthRoutes(gateway)] })
  const figures = { total: [] as number[], store: [] as number[], ably: [] as number[], anonymous: [] as number[] }
  for (let round = 0; round < ROUNDS + 20; round++) {
    let started = performance.now()
    const res = await app.request('/api/ably/health', { headers: admin })
    const total = performance.now() - started
    const body = (await res.json()) as { checks: { store: { latencyMs: number }; ably: { latencyMs: number } } }
    started = performance.now()
    await (await app.request('/api/ably/health')).arrayBuffer()
    const anonymous = performance.now() - started
    if (round < 20) continue
    figures.total.push(total)
    figures.store.push(body.checks.store.latencyMs)
    figures.ably.push(body.checks.ably.latencyMs)
    figures.anonymous.push(anonymous)
  }
  console.log(`store with ${size} messages, ${ROUNDS} requests each:`)
  for (const [name, values] of Object.entries(figures)) console.log(`  ${name.padEnd(9)} p50 ${ms(percentile(values, 50))}  p95 ${ms(percentile(values, 95))}`)
  await gateway.close()
}
await hub.close()
