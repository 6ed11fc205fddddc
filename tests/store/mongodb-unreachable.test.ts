/** D08 with the real driver: MongoDB unreachable → StoreUnavailableError within the short timeouts, and a 503 from the gateway. */
import { describe, expect, it } from 'vitest'
import { nodeGatewayFromEnv } from '../../src/wiring/node-gateway.ts'
import { StoreUnavailableError } from '../../src/store/index.ts'
import { createMongoStore, sharedMongoClient } from '../../src/store/mongodb.ts'
import { appToken, bearer, testEnv } from '../support/fixtures.ts'
import { ownMessages, scriptedAbly } from '../gateway/support.ts'

// Nothing listens on port 9 of loopback: every connection is refused.
const UNREACHABLE = 'mongodb://127.0.0.1:9/?directConnection=true'

describe('MongoDB unreachable, with the official driver', () => {
  it('fails with StoreUnavailableError after the server-selection timeout, naming no URI', async () => {
    const store = createMongoStore({ uri: UNREACHABLE, dbName: 'unreachable', timeoutMs: 300 })
    const error = await store.init().then(
      () => undefined,
      (caught: unknown) => caught,
    )
    expect(error).toBeInstanceOf(StoreUnavailableError)
    expect(String((error as Error).message)).toBe('MongoDB: MongoServerSelectionError')
    await store.close()
  })

  it('reuses one client per URI across invocations', () => {
    expect(sharedMongoClient('mongodb://127.0.0.1:9/?appName=a')).toBe(sharedMongoClient('mongodb://127.0.0.1:9/?appName=a'))
  })

  it('D08: the gateway answers 503 with Retry-After in well under 3 s, and publishes nothing', async () => {
    const ably = scriptedAbly()
    const { app, gateway } = nodeGatewayFromEnv(
      { ...testEnv, MONGODB_URI: UNREACHABLE, MONGODB_TIMEOUT_MS: '300', PUBLISH_RATE_LIMIT: '0' },
      { ably: ably.port, log: () => {}, requireDurableStore: true },
    )
    const now = Math.floor(Date.now() / 1000)
    const started = Date.now()
    const res = await app.request('/api/ably/publish', {
      method: 'POST',
      headers: { ...bearer(await appToken({ iat: now, exp: now + 600 })), 'Content-Type': 'application/json' },
      body: JSON.stringify(ownMessages()[0]),
    })
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('5')
    expect(((await res.json()) as { code: string }).code).toBe('store_unavailable')
    expect(Date.now() - started).toBeLessThan(3000)
    expect(ably.requests).toBe(0)
    await gateway.close()
  })
})
