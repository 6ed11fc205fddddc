/**
 * Log out means logged out (issue 14), end to end: the real ably SDK against the hub, every client renewing through
 * an `authCallback` to our token route (as browsers do), our revoke route, the deny-list and the hub's revokeTokens.
 */
import '../client/node-websocket.ts'
import * as Ably from 'ably'
import { SignJWT } from 'jose'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { createApp } from '../../src/app.ts'
import { createAblyService } from '../../src/client/service.ts'
import { createTokenAuth, type TokenAuth } from '../../src/client/token-auth.ts'
import { parseConfig } from '../../src/config/parse.ts'
import { silentLogger } from '../../src/log/index.ts'
import { createMemoryRevocationStore } from '../../src/revocation/deny-list.ts'
import { revokeRoutes } from '../../src/revocation/routes.ts'
import { startClientStack, until, type ClientStack } from '../client/support.ts'
import { teamChat } from '../policy/team-chat.ts'
import { TEST_JWT_SECRET } from '../support/fixtures.ts'

const store = createMemoryRevocationStore()
let stack: ClientStack
const clients = new Set<Ably.Realtime>()

beforeAll(async () => {
  stack = await startClientStack(
    { sweepIntervalMs: 50 },
    { env: { ABLY_REVOCABLE_TOKENS: 'true', ABLY_TOKEN_TTL: '600', ABLY_ADMIN_ROLES: 'admin' }, revocationStore: store },
  )
})
afterEach(() => {
  for (const client of clients) client.close()
  clients.clear()
})
afterAll(() => stack.close())

/** An app JWT for one session of `userId` (the provider's `sid`), as a host app's login would issue it. */
const login = (userId: string, sid: string, role = 'user', claims: Record<string, unknown> = {}) => {
  const iat = Math.floor(Date.now() / 1000) - 2
  return new SignJWT({ ...claims, userId, role, sid })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(iat)
    .setExpirationTime(iat + 3600)
    .sign(new TextEncoder().encode(TEST_JWT_SECRET))
}

/** One device: a realtime client renewing through our token route with its session's app JWT. */
interface Device {
  appToken: string
  client: Ably.Realtime
  auth: TokenAuth
  tokenRequests: number
}

/** A device of `userId` on `on` (the suite's stack unless said), its app JWT carrying `claims` besides. */
async function device(
  userId: string,
  sid: string,
  role?: string,
  { claims, on = stack }: { claims?: Record<string, unknown>; on?: ClientStack } = {},
): Promise<Device> {
  const appToken = await login(userId, sid, role, claims)
  const counter = { tokenRequests: 0 }
  const auth = createTokenAuth({
    getAppToken: () => appToken,
    tokenUrl: `${on.url}/api/ably/token`,
    fetch: (input, init) => {
      counter.tokenRequests++
      return fetch(input, init)
    },
  })
  const client = new Ably.Realtime({ ...on.ably, authCallback: auth.authCallback })
  clients.add(client)
  await client.connection.once('connected')
  return {
    appToken,
    client,
    auth,
    get tokenRequests() {
      return counter.tokenRequests
    },
  }
}

const revoke = (appToken: string, body?: unknown) =>
  fetch(`${stack.url}/api/ably/revoke`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${appToken}`, ...(body !== undefined && { 'Content-Type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  })

const tokenFor = (appToken: string) => fetch(`${stack.url}/api/ably/token`, { method: 'POST', headers: { Authorization: `Bearer ${appToken}` } })

/** Resolves when the device's connection has failed for good, refused by our token route. */
const endsRefused = async (one: Device) => {
  await until(() => one.client.connection.state === 'failed', 'the revoked device to fail')
  expect(one.auth.unauthorized).toBe(true)
}

describe('revocation against the hub, with clients that renew', () => {
  it('a session revoke disconnects that device (40141), refuses its renewal, and leaves the other device and users connected', async () => {
    const phone = await device('alice', 'phone')
    const laptop = await device('alice', 'laptop')
    const bob = await device('bob', 'b1')
    const disconnected = phone.client.connection.once('disconnected')
    const started = performance.now()
    const res = await revoke(phone.appToken)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ revoked: true, scope: 'session', userId: 'alice' })
    expect((await disconnected).reason?.code).toBe(40141)
    console.info(`revoke → disconnect: ${(performance.now() - started).toFixed(1)} ms (including the revoke request)`)
    await endsRefused(phone)
    // One token to connect, one refused renewal: no retry storm.
    expect(phone.tokenRequests).toBe(2)
    const refused = await tokenFor(phone.appToken)
    expect(refused.status).toBe(403)
    expect(await refused.json()).toMatchObject({ code: 'signed_out' })

    expect(laptop.client.connection.state).toBe('connected')
    expect(bob.client.connection.state).toBe('connected')
    await expect(laptop.client.auth.authorize()).resolves.toBeDefined()
    expect((await tokenFor(bob.appToken)).status).toBe(200)
  })

  it('a user revoke ends every device of that user, and no other user', async () => {
    const phone = await device('carol', 'phone')
    const laptop = await device('carol', 'laptop')
    const bob = await device('bob', 'b2')
    expect((await revoke(laptop.appToken, { scope: 'user' })).status).toBe(200)
    await Promise.all([endsRefused(phone), endsRefused(laptop)])
    expect(bob.client.connection.state).toBe('connected')
    expect((await tokenFor(bob.appToken)).status).toBe(200)
    // A login after the revoke starts a new session, which is not refused.
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const fresh = await new SignJWT({ userId: 'carol', sid: 'new' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(TEST_JWT_SECRET))
    expect((await tokenFor(fresh)).status).toBe(200)
  })

  it('an admin can revoke another user; a user cannot (403)', async () => {
    const dave = await device('dave', 'd1')
    const erin = await login('erin', 'e1')
    const refused = await revoke(erin, { userId: 'dave' })
    expect(refused.status).toBe(403)
    expect(await refused.json()).toMatchObject({ code: 'forbidden' })
    expect(dave.client.connection.state).toBe('connected')

    const admin = await login('root', 'a1', 'admin')
    const res = await revoke(admin, { userId: 'dave' })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ scope: 'user', userId: 'dave' })
    await endsRefused(dave)
    // The admin's own session is untouched.
    expect((await tokenFor(admin)).status).toBe(200)
  })

  it('a bare token copied out of a revoked session is refused on REST and on realtime', async () => {
    const appToken = await login('frank', 'f1')
    const { token } = (await (await tokenFor(appToken)).json()) as { token: string }
    const hub = `127.0.0.1:${stack.ably.port}`
    const rest = () => fetch(`http://${hub}/channels/${encodeURIComponent('contacts:frank')}/messages`, { headers: { Authorization: `Bearer ${btoa(token)}` } })
    expect((await rest()).status).toBe(200)
    expect((await revoke(appToken)).status).toBe(200)

    const refused = await rest()
    expect(refused.status).toBe(401)
    expect(((await refused.json()) as { error: { code: number } }).error.code).toBe(40141)
    const frame = await firstFrame(`ws://${hub}/?access_token=${token}&v=6&format=json`)
    expect(frame).toMatchObject({ action: 9, error: { code: 40141 } })
    // ably-js with the bare token (no way to renew) cannot connect either.
    const copied = new Ably.Realtime({ ...stack.ably, token })
    clients.add(copied)
    await until(() => copied.connection.state === 'failed', 'the copied token to be refused')
  })

  it('Ably unreachable during a revoke: 503 revocation_unavailable (recorded), and the deny-list still refuses renewals', async () => {
    const gina = await device('gina', 'g1')
    // The same deny-list as the stack's token route, with Ably out of reach (a closed port).
    const offline = createApp(
      parseConfig({ JWT_SECRET: TEST_JWT_SECRET, ABLY_API_KEY: stackKey(), ABLY_REST_URL: 'http://127.0.0.1:9', ABLY_REVOCABLE_TOKENS: 'true' }),
      { routes: [revokeRoutes], revocationStore: store, log: silentLogger },
    )
    const res = await offline.request('/api/ably/revoke', { method: 'POST', headers: { Authorization: `Bearer ${gina.appToken}` } })
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBeTruthy()
    expect(await res.json()).toMatchObject({ code: 'revocation_unavailable', details: { recorded: true } })
    // Ably never heard of it, so the live token still works; its renewal does not.
    expect(gina.client.connection.state).toBe('connected')
    await expect(gina.client.auth.authorize()).rejects.toMatchObject({ statusCode: 403 })
    await endsRefused(gina)
  })
})

describe('the browser client', () => {
  it('signOut() revokes before it disconnects; a session revoked elsewhere ends unauthorized without a retry storm', async () => {
    const service = async (sid: string) => {
      const calls: string[] = []
      const appToken = await login('hana', sid)
      const one = createAblyService({
        tokenUrl: `${stack.url}/api/ably/token`,
        getAppToken: () => appToken,
        ably: stack.ably,
        fetch: (input, init) => {
          calls.push(new URL(String(input)).pathname)
          return fetch(input, init)
        },
      })
      expect(await one.connect()).toBe(true)
      expect(one.state).toBe('connected')
      return { one, calls, tokenRequests: () => calls.filter((path) => path === '/api/ably/token').length }
    }
    const phone = await service('phone')
    const laptop = await service('laptop')

    const states: string[] = []
    laptop.one.onConnectionStateChange(({ current }) => states.push(current))
    laptop.calls.length = 0
    expect(await laptop.one.signOut({ everywhere: true })).toEqual({ revoked: true })
    // The revoke went out first. The hub cut this very connection (40141) before the answer came back, so ably-js may
    // have asked for one renewal meanwhile, which the token route refused; then the client closed.
    expect(laptop.calls[0]).toBe('/api/ably/revoke')
    expect(laptop.tokenRequests()).toBeLessThanOrEqual(1)
    expect(states.at(-1)).toBe('closed')
    expect(laptop.one.state).toBe('closed')

    await until(() => phone.one.state === 'unauthorized', 'the other device to end unauthorized')
    // One token to connect, one refused renewal, and no more however long it waits.
    expect(phone.tokenRequests()).toBe(2)
    await new Promise((resolve) => setTimeout(resolve, 1000))
    expect(phone.tokenRequests()).toBe(2)
    expect(phone.one.state).toBe('unauthorized')
  })
})

describe('a session whose capability is too large for an Ably JWT (a TokenRequest, which carries no revocation key)', () => {
  let teams: ClientStack
  beforeAll(async () => {
    teams = await startClientStack(
      {},
      {
        policy: teamChat,
        env: { ABLY_REVOCABLE_TOKENS: 'true', ABLY_TOKEN_TTL: '600', JWT_MEMBERSHIP_CLAIM: '/teams' },
        revocationStore: createMemoryRevocationStore(),
      },
    )
  })
  afterAll(() => teams.close())

  it('a session revoke still disconnects that device; the user’s other devices renew and stay', async () => {
    const memberships = Array.from({ length: 100 }, (_, index) => `squad-${String(index).padStart(4, '0')}`)
    const member = (sid: string) => device('ivan', sid, undefined, { claims: { teams: memberships }, on: teams })
    const phone = await member('phone')
    const laptop = await member('laptop')
    const issued = await fetch(`${teams.url}/api/ably/token`, { method: 'POST', headers: { Authorization: `Bearer ${phone.appToken}` } })
    expect(await issued.json()).toHaveProperty('tokenRequest')

    const res = await fetch(`${teams.url}/api/ably/revoke`, { method: 'POST', headers: { Authorization: `Bearer ${phone.appToken}` } })
    expect(res.status).toBe(200)
    await until(() => phone.client.connection.state === 'failed', 'the revoked device to fail')
    expect(phone.auth.unauthorized).toBe(true)
    expect(phone.tokenRequests).toBe(2)
    // Ably reaches a TokenRequest's token only by clientId, so the laptop was cut too, and renewed (its session stands).
    await until(() => laptop.tokenRequests === 2 && laptop.client.connection.state === 'connected', 'the other device to renew')
    expect(laptop.auth.unauthorized).toBe(false)
  })
})

function stackKey(): string {
  return `clientTests.key:client-tests-hub-secret-0123456789`
}

function firstFrame(url: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    ws.once('message', (data: Buffer) => {
      resolve(JSON.parse(data.toString()) as Record<string, unknown>)
      ws.terminate()
    })
    ws.once('error', reject)
  })
}
