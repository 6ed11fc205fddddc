/**
 * A capability too large for an Ably JWT (which travels in a header, about 8 KB) comes as a TokenRequest signed with
 * the key, which the real SDK redeems at the hub; beyond what ably-js accepts (128 KiB), a clear 403.
 */
import '../client/node-websocket.ts'
import * as Ably from 'ably'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { parseConfig } from '../../src/config/parse.ts'
import { TokenRequestResponse, TokenResponse } from '../../src/contract/index.ts'
import { createHub, type Hub } from '../../src/hub/index.ts'
import { silentLogger } from '../../src/log/index.ts'
import { mintAppToken } from '../../src/local/mint-app-token.ts'
import { defineChannelPolicy, type KindDeclaration } from '../../src/policy/index.ts'
import { MAX_ABLY_JWT_LENGTH, tokenRoutes } from '../../src/routes/token.ts'
import { TEST_JWT_SECRET } from '../support/fixtures.ts'

const KEY = { name: 'size.key', secret: 'token-size-key-secret-0123456789' }
/** A policy of `count` public kinds: its capability grows with the count, as memberships make it grow. */
const manyKinds = (count: number) =>
  defineChannelPolicy({
    kinds: Object.fromEntries(
      Array.from({ length: count }, (_, index): [string, KindDeclaration] => [
        `k${index}`,
        { pattern: `board${index}`, browser: ['history', 'subscribe'], publishers: ['server'], events: { post: { data: (z) => z.strictObject({}) } } },
      ]),
    ),
  })

let hub: Hub
beforeAll(async () => {
  hub = createHub({ keys: [KEY], log: silentLogger })
  await hub.listen(0)
})
afterAll(() => hub.close())

async function token(kinds: number) {
  const config = parseConfig({ ABLY_API_KEY: `${KEY.name}:${KEY.secret}`, JWT_SECRET: TEST_JWT_SECRET, ABLY_REST_URL: `http://localhost:${hub.port}` })
  const app = createApp(config, { routes: [tokenRoutes], log: silentLogger, policy: manyKinds(kinds) })
  const res = await app.request('/api/ably/token', {
    method: 'POST',
    headers: { Authorization: `Bearer ${await mintAppToken(TEST_JWT_SECRET, { userId: 'alice' })}` },
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

describe('capability size', () => {
  it('a small capability is an Ably JWT', async () => {
    const { status, body } = await token(10)
    expect(status).toBe(200)
    expect(TokenResponse.parse(body).token.length).toBeLessThanOrEqual(MAX_ABLY_JWT_LENGTH)
  })

  it('past the header budget, a signed TokenRequest the real SDK redeems for the same capability', async () => {
    const { status, body } = await token(160)
    expect(status).toBe(200)
    const { tokenRequest, capability } = TokenRequestResponse.parse(body)
    expect(tokenRequest).toMatchObject({ keyName: KEY.name, clientId: 'alice', capability: JSON.stringify(capability) })
    expect(body).not.toHaveProperty('token')

    const client = new Ably.Realtime({
      endpoint: 'localhost',
      port: hub.port!,
      tls: false,
      logLevel: 0,
      authCallback: (_params, callback) => callback(null, tokenRequest),
    })
    try {
      await client.connection.whenState('connected')
      expect(client.auth.clientId).toBe('alice')
      await client.channels.get('board159').attach()
      await expect(client.channels.get('board160').attach()).rejects.toMatchObject({ code: 40160 })
    } finally {
      client.close()
    }
  })

  it('beyond what a TokenRequest can carry, a 403 that says why', async () => {
    const { status, body } = await token(5000)
    expect(status).toBe(403)
    expect(body).toMatchObject({
      code: 'forbidden',
      error: expect.stringMatching(/^Your channels need a credential of \d+ bytes; at most 131072 can be issued/),
    })
  }, 30_000)
})
