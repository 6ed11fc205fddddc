/**
 * The real `ably` SDK, Rest and Realtime, in both protocols, against the local hub, with credentials from our own
 * `/api/ably/token` (issue: the hub and the token route proven together, K06 of the security cases).
 */
import * as Ably from 'ably'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { parseConfig } from '../../src/config/parse.ts'
import { createHub, type Hub } from '../../src/hub/index.ts'
import { silentLogger } from '../../src/log/index.ts'
import { mintAppToken } from '../../src/local/mint-app-token.ts'
import { edgeRoutes } from '../../src/routes/index.ts'
import { TEST_JWT_SECRET } from '../support/fixtures.ts'

const KEY = { name: 'itest.key', secret: 'integration-key-secret-0123456789' }
let hub: Hub
let app: ReturnType<typeof createApp>
const clients = new Set<Ably.Realtime>()

beforeAll(async () => {
  hub = createHub({ keys: [KEY], log: silentLogger })
  const { port } = await hub.listen(0)
  const config = parseConfig({ ABLY_API_KEY: `${KEY.name}:${KEY.secret}`, JWT_SECRET: TEST_JWT_SECRET, ABLY_REST_URL: `http://localhost:${port}` })
  app = createApp(config, { routes: edgeRoutes, log: silentLogger })
})
afterEach(() => {
  for (const client of clients) client.close()
  clients.clear()
})
afterAll(() => hub.close())

const hubOptions = () => ({ endpoint: 'localhost', port: hub.port!, tls: false })

/** What a browser does: ask our endpoint for a credential with its app JWT, and hand ably-js the token. */
function tokenCallback(
  userId: string,
  { appTtlSec = 3600, onFetch = () => {} }: { appTtlSec?: number; onFetch?: () => void } = {},
): Ably.ClientOptions['authCallback'] {
  return async (_params, callback) => {
    onFetch()
    const appJwt = await mintAppToken(TEST_JWT_SECRET, { userId, ttlSec: appTtlSec })
    const res = await app.request('/api/ably/token', { method: 'POST', headers: { Authorization: `Bearer ${appJwt}` } })
    const body = (await res.json()) as { token: string }
    callback(null, body.token)
  }
}

function realtime(options: Ably.ClientOptions): Ably.Realtime {
  const client = new Ably.Realtime({ ...hubOptions(), disconnectedRetryTimeout: 200, logLevel: 0, ...options })
  clients.add(client)
  return client
}

const keyRest = (useBinaryProtocol: boolean) => new Ably.Rest({ ...hubOptions(), key: `${KEY.name}:${KEY.secret}`, useBinaryProtocol })

describe.each([
  { protocol: 'msgpack', useBinaryProtocol: true },
  { protocol: 'json', useBinaryProtocol: false },
])('ably-js ($protocol) with tokens from /api/ably/token', ({ useBinaryProtocol }) => {
  it('connects as the user, attaches, and receives what a server publishes', async () => {
    const alice = realtime({ authCallback: tokenCallback('alice'), useBinaryProtocol })
    await alice.connection.whenState('connected')
    expect(alice.auth.clientId).toBe('alice')
    const channel = alice.channels.get('sms:alice:c1')
    await channel.attach()
    const received = new Promise<Ably.InboundMessage>((resolve) => channel.subscribe('message', resolve))
    await keyRest(useBinaryProtocol)
      .channels.get('sms:alice:c1')
      .publish({ name: 'message', data: { text: 'hi' }, id: `server-${useBinaryProtocol}:0` })
    const message = await received
    expect(message).toMatchObject({ name: 'message', data: { text: 'hi' }, id: `server-${useBinaryProtocol}:0` })
  })

  it('reads history and sees channel status and batch publishes', async () => {
    const rest = keyRest(useBinaryProtocol)
    const name = `sms:alice:h${useBinaryProtocol ? 'b' : 'j'}`
    const alice = realtime({ authCallback: tokenCallback('alice'), useBinaryProtocol })
    const channel = alice.channels.get(name)
    await channel.attach()
    const both = new Promise<string[]>((resolve) => {
      const seen: string[] = []
      channel.subscribe((message) => {
        seen.push(String(message.name))
        if (seen.length === 2) resolve(seen)
      })
    })
    await rest.channels.get(name).publish('message', { n: 1 })
    await rest.batchPublish({ channels: [name, 'contacts:alice'], messages: [{ name: 'message_status', data: { n: 2 } }] })
    expect(await both).toEqual(['message', 'message_status'])

    // The user's token carries `history`, so the browser can page its own channels.
    const history = await (channel as unknown as { history(params?: object): Promise<Ably.PaginatedResult<Ably.InboundMessage>> }).history({ limit: 10 })
    expect(history.items.map((message) => message.name)).toEqual(['message_status', 'message'])

    const status = await rest.channels.get(name).status()
    expect(status.status.isActive).toBe(true)
    expect(status.status.occupancy.metrics.subscribers).toBeGreaterThanOrEqual(1)
  })

  it('K06: alice cannot attach to bob’s channels, nor publish even to her own (40160)', async () => {
    const alice = realtime({ authCallback: tokenCallback('alice'), useBinaryProtocol })
    await alice.connection.whenState('connected')
    for (const name of ['sms:bob:c1', 'contacts:bob', 'notifications:bob']) {
      await expect(alice.channels.get(name).attach(), name).rejects.toMatchObject({ code: 40160 })
    }
    const publish = await alice.channels
      .get('sms:alice:c1')
      .publish('message', 'forged')
      .then(
        () => undefined,
        (e: Ably.ErrorInfo) => e,
      )
    expect(publish?.code).toBe(40160)
    expect(alice.connection.state).toBe('connected')
  })

  it('renews an expiring token through authCallback without losing the connection', async () => {
    let fetches = 0
    // The app JWT lives 3 s, so the Ably token does too. As on Ably, a token that short is never prompted
    // (Ably prompts 30 s before expiry): it ends with DISCONNECTED 40142, ably-js renews through authCallback
    // and resumes the same connection.
    const alice = realtime({ authCallback: tokenCallback('alice', { appTtlSec: 3, onFetch: () => fetches++ }), useBinaryProtocol })
    await alice.connection.whenState('connected')
    const connectionId = alice.connection.id
    const states: string[] = []
    const disconnections: (number | undefined)[] = []
    alice.connection.on((change) => states.push(change.current))
    alice.connection.on('disconnected', (change) => disconnections.push(change.reason?.code))
    const channel = alice.channels.get('notifications:alice')
    await channel.attach()
    await new Promise<void>((resolve) => {
      const check = () => (fetches >= 3 ? resolve() : setTimeout(check, 100))
      check()
    })
    const received = new Promise<Ably.InboundMessage>((resolve) => channel.subscribe(resolve))
    await keyRest(useBinaryProtocol).channels.get('notifications:alice').publish('update', { after: 'renewal' })
    expect((await received).data).toEqual({ after: 'renewal' })
    expect(alice.connection.id).toBe(connectionId)
    expect(states.filter((state) => !['connected', 'update', 'disconnected', 'connecting'].includes(state))).toEqual([])
    expect(disconnections.length).toBeGreaterThanOrEqual(1)
    expect(disconnections.every((code) => code === 40142)).toBe(true)
  }, 20_000)
})
