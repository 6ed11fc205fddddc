/**
 * The token route's status contract, with the real `ably` SDK against `npm start`'s stack (issue 11, friction):
 * ably-js treats only a 403 from its auth endpoint as final (RSA4d) and retries anything else. So a refused app JWT
 * gets 403: a signed-out browser stops, whichever documented recipe it uses (authUrl, authCallback, our client). And
 * a session refreshed in the background recovers: on an "expired" answer our client asks `getAppToken` once more.
 */
import * as Ably from 'ably'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createTokenAuth } from '../../src/client/index.ts'
import { loadDevSecrets } from '../../src/local/dev-secrets.ts'
import { mintAppToken } from '../../src/local/mint-app-token.ts'
import type { LogEntry } from '../../src/log/index.ts'
import { useLocalStack } from '../support/local-stack.ts'

const logs: LogEntry[] = []
const fixture = useLocalStack({ log: (entry) => void logs.push(entry) })
let secret = ''
beforeAll(async () => {
  secret = (await loadDevSecrets(fixture.path('secrets.json'))).jwtSecret
})
const clients = new Set<Ably.Realtime>()
afterEach(() => {
  for (const client of clients) client.close()
  clients.clear()
})

const tokenUrl = () => `${fixture.stack.url}/api/ably/token`
const tokenRequests = () => logs.filter((entry) => entry.msg === 'request' && entry.path === '/api/ably/token')
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A client that would retry every 100 ms if it were going to retry at all. */
function realtime(options: Ably.ClientOptions): Ably.Realtime {
  const client = new Ably.Realtime({
    endpoint: 'localhost',
    port: fixture.stack.hubPort!,
    tls: false,
    disconnectedRetryTimeout: 100,
    suspendedRetryTimeout: 100,
    logLevel: 0,
    ...options,
  })
  clients.add(client)
  return client
}

const wrongSecret = () => mintAppToken('not-the-stack-secret-0123456789-abcdefghijklmnop', { userId: 'alice' })
const expired = () => mintAppToken(secret, { userId: 'alice', ttlSec: -60 })
const fresh = () => mintAppToken(secret, { userId: 'alice' })

/** The README's authCallback recipe, as written there. */
function readmeAuthCallback(getJwt: () => Promise<string>): Ably.ClientOptions['authCallback'] {
  return async (_params, callback) => {
    try {
      const res = await fetch(tokenUrl(), { method: 'POST', headers: { Authorization: `Bearer ${await getJwt()}` } })
      if (!res.ok) return callback({ code: 40170, statusCode: res.status, message: 'not signed in' } as Ably.ErrorInfo, null)
      callback(null, (await res.json()).token)
    } catch (error) {
      callback(error as Ably.ErrorInfo, null)
    }
  }
}

describe('a signed-out browser stops retrying, whichever recipe it uses', () => {
  const recipes: [string, (jwt: () => Promise<string>) => Promise<Ably.ClientOptions>][] = [
    ['authUrl (GET) with authHeaders', async (jwt) => ({ authUrl: tokenUrl(), authHeaders: { Authorization: `Bearer ${await jwt()}` } })],
    ['authUrl with authMethod POST', async (jwt) => ({ authUrl: tokenUrl(), authMethod: 'POST', authHeaders: { Authorization: `Bearer ${await jwt()}` } })],
    ['the README authCallback', async (jwt) => ({ authCallback: readmeAuthCallback(jwt) })],
    ['our client (createTokenAuth)', async (jwt) => ({ authCallback: createTokenAuth({ getAppToken: jwt, tokenUrl: tokenUrl() }).authCallback })],
  ]
  it.each(
    recipes.flatMap(([name, options]) => [
      [name, 'a JWT signed with another secret', options, wrongSecret] as const,
      [name, 'an expired JWT', options, expired] as const,
    ]),
  )('%s, %s: one 403, then failed for good', async (_name, _why, options, jwt) => {
    logs.length = 0
    const client = realtime(await options(jwt))
    const change = await client.connection.whenState('failed')
    expect(change?.reason?.statusCode).toBe(403)
    await sleep(600)
    expect(client.connection.state).toBe('failed')
    // Our client asks its getAppToken once more after "expired"; the JWT it gets back is the same expired one, so
    // it does not ask the endpoint again.
    expect(tokenRequests().map((line) => line.status)).toEqual([403])
  })
})

describe('a browser whose session is refreshed in the background recovers', () => {
  it('our client: after "expired", it asks getAppToken once more and connects with the renewed JWT', async () => {
    logs.length = 0
    const jwts = [expired(), fresh()]
    let asked = 0
    const auth = createTokenAuth({ getAppToken: () => jwts[Math.min(asked++, 1)], tokenUrl: tokenUrl() })
    const client = realtime({ authCallback: auth.authCallback })
    await client.connection.whenState('connected')
    expect(client.auth.clientId).toBe('alice')
    expect(asked).toBe(2)
    expect(tokenRequests().map((line) => line.status)).toEqual([403, 200])
  })

  it('our client: a second "expired" is final (no loop)', async () => {
    logs.length = 0
    let asked = 0
    // A different expired JWT each time, as a session whose refresh failed would give.
    const auth = createTokenAuth({ getAppToken: () => mintAppToken(secret, { userId: 'alice', ttlSec: -60 - asked++ }), tokenUrl: tokenUrl() })
    const client = realtime({ authCallback: auth.authCallback })
    expect((await client.connection.whenState('failed'))?.reason?.statusCode).toBe(403)
    await sleep(600)
    expect(asked).toBe(2)
    expect(tokenRequests().map((line) => line.status)).toEqual([403, 403])
    expect(auth.unauthorized).toBe(true)
  })
})
