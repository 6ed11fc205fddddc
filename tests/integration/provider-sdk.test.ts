/**
 * Issue 12 with the real `ably` SDK: for each provider shape, a browser's token (signed by a key served from a
 * loopback JWKS) is traded at /api/ably/token for an Ably token; ably-js connects to the local hub as the provider's
 * user id, receives what a server publishes on that user's channels (named by the segment), and gets 40160 on
 * another user's.
 */
import * as Ably from 'ably'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { contactsChannel, conversationChannel, notificationsChannel } from '../../src/channels/index.ts'
import { parseConfig } from '../../src/config/parse.ts'
import { createHub, type Hub } from '../../src/hub/index.ts'
import { silentLogger } from '../../src/log/index.ts'
import { edgeRoutes } from '../../src/routes/index.ts'
import { providerShapes, signingKey, signWith, startJwksServer, type JwksServer, type ProviderName, type ProviderShape } from '../support/identity-provider.ts'

const KEY = { name: 'ptest.key', secret: 'provider-integration-key-secret-0123' }
let hub: Hub
let jwks: JwksServer
let shapes: Record<ProviderName, ProviderShape>
const clients = new Set<Ably.Realtime>()

beforeAll(async () => {
  hub = createHub({ keys: [KEY], log: silentLogger })
  await hub.listen(0)
  const [rsa, ec] = await Promise.all([signingKey('RS256', 'rsa-sdk'), signingKey('ES256', 'ec-sdk')])
  jwks = await startJwksServer([rsa.publicJwk, ec.publicJwk])
  shapes = providerShapes(jwks.origin, { rsa, ec })
})
afterEach(() => {
  for (const client of clients) client.close()
  clients.clear()
})
afterAll(async () => {
  await jwks.close()
  await hub.close()
})

describe.each(['auth0', 'clerk', 'supabase', 'firebase', 'cognito'] as ProviderName[])('ably-js with a %s-shaped token', (name) => {
  it('receives its own channels and gets 40160 on another user’s', async () => {
    const shape = shapes[name]
    const config = parseConfig({ ABLY_API_KEY: `${KEY.name}:${KEY.secret}`, ABLY_REST_URL: `http://localhost:${hub.port}`, ...shape.env })
    const app = createApp(config, { routes: edgeRoutes, log: silentLogger })
    const nowSec = Math.floor(Date.now() / 1000)
    const authCallback: Ably.ClientOptions['authCallback'] = async (_params, callback) => {
      const jwt = await signWith(shape.key, { ...shape.claims(0), iat: nowSec, nbf: nowSec - 5, exp: nowSec + 600 })
      const res = await app.request('/api/ably/token', { method: 'POST', headers: { Authorization: `Bearer ${jwt}` } })
      const body = (await res.json()) as { token?: string; code?: string }
      if (!body.token) return callback(new Ably.ErrorInfo(`token route: ${res.status} ${body.code}`, 40100, 401), null)
      callback(null, body.token)
    }
    const client = new Ably.Realtime({ endpoint: 'localhost', port: hub.port!, tls: false, logLevel: 0, authCallback })
    clients.add(client)
    await client.connection.whenState('connected')
    const me = shape.userId(0)
    expect(client.auth.clientId).toBe(me)

    const rest = new Ably.Rest({ endpoint: 'localhost', port: hub.port!, tls: false, key: `${KEY.name}:${KEY.secret}` })
    for (const channelName of [conversationChannel(me, 'c1'), contactsChannel(me), notificationsChannel(me)]) {
      const channel = client.channels.get(channelName)
      await channel.attach()
      const received = new Promise<Ably.InboundMessage>((resolve) => channel.subscribe(resolve))
      await rest.channels.get(channelName).publish({ name: 'update', data: { to: name } })
      expect((await received).data).toEqual({ to: name })
    }

    const other = shape.userId(1)
    for (const channelName of [conversationChannel(other, 'c1'), contactsChannel(other), notificationsChannel(other)]) {
      await expect(client.channels.get(channelName).attach(), channelName).rejects.toMatchObject({ code: 40160 })
    }
    expect(client.connection.state).toBe('connected')
  })
})
