/**
 * `npx tsx bench/revocation.ts`: what revocation costs and how fast it acts, on loopback only, bounded in time.
 *
 * 1. The token route's cost per request with the deny-list check (cold: the first request of a new app; warm: back to
 *    back, alternating rounds), side by side with the route without it: the embedded store, and Netlify Blobs through
 *    Netlify's own local Blobs server with strong and with eventual consistency. Offline, both consistencies reach the
 *    same loopback server, so this measures our code and one store round trip, not Netlify's edge cache.
 * 2. The time from `POST /api/ably/revoke` (sent, and answered) to the revoked device's DISCONNECTED (40141) and to its
 *    end, unauthorized (its renewal refused with 403), with the real ably SDK against the hub, the device renewing
 *    through our token route; and how many token requests the revoked devices made meanwhile.
 */
import '../tests/client/node-websocket.ts'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BlobsServer } from '@netlify/blobs/server'
import * as Ably from 'ably'
import { SignJWT } from 'jose'
import { createApp } from '../src/app.ts'
import { createTokenAuth } from '../src/client/token-auth.ts'
import { parseConfig } from '../src/config/parse.ts'
import { silentLogger } from '../src/log/index.ts'
import { createMemoryRevocationStore, type RevocationStore } from '../src/revocation/deny-list.ts'
import { createNetlifyBlobsStore } from '../src/revocation/netlify-blobs.ts'
import { tokenRoutes } from '../src/routes/token.ts'
import { startClientStack } from '../tests/client/support.ts'

const JWT_SECRET = 'bench-app-jwt-secret-0123456789-abcdefghijklmnop'
const ENV = { ABLY_API_KEY: 'bench.key:bench-ably-key-secret-0123456789abcdef', JWT_SECRET, ABLY_REST_URL: 'http://127.0.0.1:9' }
const COLD_RUNS = 25
const WARM_ROUNDS = 5
const WARM_REQUESTS = 300
const DISCONNECT_TRIALS = 20

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN
const p95 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.95)] ?? Number.NaN

const mint = (userId: string) =>
  new SignJWT({ userId, sid: `s-${userId}` })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(JWT_SECRET))

async function tokenRouteCost() {
  const dir = await mkdtemp(join(tmpdir(), 'bench-blobs-'))
  const server = new BlobsServer({ directory: dir, token: 'bench', port: 0, logger: () => {} })
  const { port } = await server.start()
  const url = `http://127.0.0.1:${port}`
  const blobs = (consistency: 'strong' | 'eventual') => () =>
    createNetlifyBlobsStore({ consistency, siteID: 'bench', token: 'bench', edgeURL: url, uncachedEdgeURL: url })
  const contenders: Record<string, (() => RevocationStore) | undefined> = {
    'no revocation': undefined,
    'embedded store': createMemoryRevocationStore,
    'Blobs, strong': blobs('strong'),
    'Blobs, eventual': blobs('eventual'),
  }
  const appFor = (store: (() => RevocationStore) | undefined) =>
    createApp(parseConfig({ ...ENV, ...(store && { ABLY_REVOCABLE_TOKENS: 'true' }) }), {
      routes: [tokenRoutes],
      log: silentLogger,
      ...(store && { revocationStore: store() }),
    })
  const tokens = await Promise.all(Array.from({ length: WARM_REQUESTS * WARM_ROUNDS * 4 + COLD_RUNS * 4 }, (_, index) => mint(`user${index}`)))
  let next = 0
  const request = async (app: ReturnType<typeof appFor>) => {
    const started = performance.now()
    const res = await app.request('/api/ably/token', { method: 'POST', headers: { Authorization: `Bearer ${tokens[next++ % tokens.length]}` } })
    if (res.status !== 200) throw new Error(`token route answered ${res.status}`)
    await res.arrayBuffer()
    return performance.now() - started
  }

  const cold: Record<string, number[]> = {}
  const warm: Record<string, number[]> = {}
  for (let run = 0; run < COLD_RUNS; run++) {
    for (const [name, store] of Object.entries(contenders)) (cold[name] ??= []).push(await request(appFor(store)))
  }
  const apps = Object.fromEntries(Object.entries(contenders).map(([name, store]) => [name, appFor(store)]))
  for (const app of Object.values(apps)) for (let i = 0; i < 50; i++) await request(app)
  for (let round = 0; round < WARM_ROUNDS; round++) {
    for (const [name, app] of Object.entries(apps)) {
      for (let i = 0; i < WARM_REQUESTS; i++) (warm[name] ??= []).push(await request(app))
    }
  }
  await server.stop()
  await rm(dir, { recursive: true, force: true })
  const base = { cold: median(cold['no revocation'] ?? []), warm: median(warm['no revocation'] ?? []) }
  console.log('\nToken route, per request (Node, in process; ms; median of', COLD_RUNS, 'cold and', WARM_ROUNDS * WARM_REQUESTS, 'warm requests)')
  console.log('| contender | cold | cold added | warm | warm added | warm p95 |')
  console.log('|---|---|---|---|---|---|')
  for (const name of Object.keys(contenders)) {
    const c = median(cold[name] ?? [])
    const w = median(warm[name] ?? [])
    console.log(
      `| ${name} | ${c.toFixed(2)} | ${(c - base.cold).toFixed(2)} | ${w.toFixed(3)} | ${(w - base.warm).toFixed(3)} | ${p95(warm[name] ?? []).toFixed(3)} |`,
    )
  }
}

async function revokeToDisconnect() {
  const stack = await startClientStack({}, { env: { ABLY_REVOCABLE_TOKENS: 'true', ABLY_TOKEN_TTL: '600' } })
  const toDisconnect: number[] = []
  const answerToDisconnect: number[] = []
  const answerToUnauthorized: number[] = []
  let renewals = 0
  try {
    for (let trial = 0; trial < DISCONNECT_TRIALS; trial++) {
      const appToken = await new SignJWT({ userId: `u${trial}`, sid: 'phone' })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode('test-app-jwt-secret-0123456789-abcdefghijklmnop'))
      let tokenRequests = 0
      const auth = createTokenAuth({
        getAppToken: () => appToken,
        tokenUrl: `${stack.url}/api/ably/token`,
        fetch: (input, init) => {
          tokenRequests++
          return fetch(input, init)
        },
      })
      const client = new Ably.Realtime({ ...stack.ably, authCallback: auth.authCallback })
      await client.connection.once('connected')
      const disconnected = client.connection.once('disconnected').then(() => performance.now())
      const failed = client.connection.once('failed').then(() => performance.now())
      const started = performance.now()
      const res = await fetch(`${stack.url}/api/ably/revoke`, { method: 'POST', headers: { Authorization: `Bearer ${appToken}` } })
      const answered = performance.now()
      if (res.status !== 200) throw new Error(`revoke answered ${res.status}`)
      const disconnectedAt = await disconnected
      const failedAt = await failed
      if (!auth.unauthorized) throw new Error('the revoked client did not end unauthorized')
      toDisconnect.push(disconnectedAt - started)
      answerToDisconnect.push(disconnectedAt - answered)
      answerToUnauthorized.push(failedAt - answered)
      renewals += tokenRequests - 1
      client.close()
    }
  } finally {
    await stack.close()
  }
  const line = (values: number[]) =>
    `median ${median(values).toFixed(1)} ms, p95 ${p95(values).toFixed(1)} ms, min ${Math.min(...values).toFixed(1)} ms, max ${Math.max(...values).toFixed(1)} ms`
  console.log(`\nRevoke against the hub, real ably SDK renewing through our token route (${DISCONNECT_TRIALS} trials):`)
  console.log(`  POST /api/ably/revoke sent → DISCONNECTED 40141: ${line(toDisconnect)}`)
  // Negative: the hub cut the connection before the revoke's answer reached the caller.
  console.log(`  revoke answered → DISCONNECTED 40141: ${line(answerToDisconnect)}`)
  console.log(`  revoke answered → unauthorized (renewal refused 403, connection failed): ${line(answerToUnauthorized)}`)
  console.log(`  token requests after the revoke: ${renewals} in ${DISCONNECT_TRIALS} trials (one refused renewal each, no retry storm)`)
}

await tokenRouteCost()
await revokeToDisconnect()
process.exit(0)
