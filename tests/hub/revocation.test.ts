/** The hub's `revokeTokens`, as Ably serves it, driven with the real ably SDK and raw protocol sockets. */
import { describe, expect, it } from 'vitest'
import type { HubKey } from '../../src/hub/index.ts'
import { keyString, mintJwt, ROOT_KEY, SUBSCRIBE_KEY, useHub } from './helpers.ts'

const REVOCABLE_KEY: HubKey = { name: 'app.revocable', secret: 'revocablesecret0123456789', revocableTokens: true }
const HOUR_MS = 3_600_000

describe('revokeTokens', () => {
  const fixture = useHub({ keys: [ROOT_KEY, SUBSCRIBE_KEY, REVOCABLE_KEY] })
  const admin = () => fixture.rest({ key: keyString(REVOCABLE_KEY) })
  const jwt = (clientId: string, extra: { revocationKey?: string; ttlMs?: number; at?: number } = {}) =>
    mintJwt({
      key: REVOCABLE_KEY,
      clientId,
      now: extra.at ?? fixture.clock.now(),
      ttlMs: extra.ttlMs ?? 600_000,
      extraClaims: extra.revocationKey === undefined ? {} : { 'x-ably-revocation-key': extra.revocationKey },
    })
  /** A connection renewing through an authCallback that mints a fresh token on the hub's clock, as a browser would. */
  const renewing = (clientId: string, revocationKey?: string) => {
    const calls = { count: 0 }
    const client = fixture.realtime({
      authCallback: (_params, callback) => {
        calls.count++
        jwt(clientId, { ...(revocationKey !== undefined && { revocationKey }) }).then(
          (token) => callback(null, token),
          (error: Error) => callback(error.message, null),
        )
      },
    })
    return { client, calls }
  }
  const rawRevoke = (body: unknown, authorization = `Basic ${btoa(keyString(REVOCABLE_KEY))}`, keyName = REVOCABLE_KEY.name) =>
    fixture.fetch(`/keys/${keyName}/revokeTokens`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })

  it('disconnects a live connection by clientId with 40141; its renewed token (issued later) connects again', async () => {
    // Tokens carry whole seconds, so the first ones are minted well before the revocation's issuedBefore.
    fixture.clock.offset = -5000
    const alice = renewing('alice')
    const bob = renewing('bob')
    await Promise.all([alice.client.connection.once('connected'), bob.client.connection.once('connected')])
    fixture.clock.offset = 0

    const disconnected = alice.client.connection.once('disconnected')
    const result = await admin().auth.revokeTokens([{ type: 'clientId', value: 'alice' }], { issuedBefore: fixture.clock.now() - 1000 })
    expect(result).toMatchObject({ successCount: 1, failureCount: 0 })
    expect(result.results[0]).toMatchObject({ target: 'clientId:alice' })
    expect((await disconnected).reason?.code).toBe(40141)
    await alice.client.connection.once('connected')
    expect(alice.calls.count).toBe(2)
    expect(bob.client.connection.state).toBe('connected')
    expect(bob.calls.count).toBe(1)
  })

  it('dates a token it issues (requestToken) to the millisecond, as Ably does: one issued just after issuedBefore is not revoked', async () => {
    // Pin the clock to the middle of a second, so the revoke and the token after it fall in the same second.
    fixture.clock.offset = 0
    fixture.clock.offset = Math.ceil(fixture.clock.now() / 1000) * 1000 + 500 - fixture.clock.now()
    const revokedAt = fixture.clock.now()
    await admin().auth.revokeTokens([{ type: 'clientId', value: 'erin' }], { issuedBefore: revokedAt })
    fixture.clock.offset += 10
    const details = await admin().auth.requestToken({ clientId: 'erin' })
    expect(details.issued).toBeGreaterThan(revokedAt)
    const res = await fixture.fetch('/channels/erin/messages', { headers: { authorization: `Bearer ${btoa(details.token)}` } })
    // Its default lifetime, one hour, is within the revocable key's cap to the millisecond too.
    expect(res.status).toBe(200)
  })

  it('matches revocationKey targets against x-ably-revocation-key only', async () => {
    const phone = renewing('carol', 'session-phone')
    const laptop = renewing('carol', 'session-laptop')
    await Promise.all([phone.client.connection.once('connected'), laptop.client.connection.once('connected')])
    const disconnected = phone.client.connection.once('disconnected')
    await admin().auth.revokeTokens([{ type: 'revocationKey', value: 'session-phone' }])
    expect((await disconnected).reason?.code).toBe(40141)
    expect(laptop.client.connection.state).toBe('connected')
  })

  it('refuses a revoked token on REST, on a new connection and on a resume; a token issued after issuedBefore is not revoked', async () => {
    const issued = fixture.clock.now()
    const old = await jwt('dave', { at: issued - 5000 })
    const later = await jwt('dave', { at: issued + 2000 })
    const socket = await fixture.raw(`access_token=${old}`)
    const connected = await socket.next((frame) => frame.action === 4)
    const connectionKey = (connected.connectionDetails as { connectionKey: string }).connectionKey

    await admin().auth.revokeTokens([{ type: 'clientId', value: 'dave' }], { issuedBefore: issued - 1000 })
    const disconnected = await socket.next((frame) => frame.action === 6)
    expect(disconnected.error).toMatchObject({ code: 40141, statusCode: 401 })

    expect(await errorOf(fixture.fetch('/channels/x/messages', { headers: { authorization: `Bearer ${btoa(old)}` } }))).toMatchObject({
      status: 401,
      code: 40141,
    })
    const fresh = await fixture.raw(`access_token=${old}`)
    expect((await fresh.next()).error).toMatchObject({ code: 40141 })
    const resumed = await fixture.raw(`access_token=${old}&resume=${encodeURIComponent(connectionKey)}`)
    expect((await resumed.next()).error).toMatchObject({ code: 40141 })

    // A token issued after issuedBefore is untouched, and resumes the connection.
    fixture.clock.offset += 3000
    const renewed = await fixture.raw(`access_token=${later}&resume=${encodeURIComponent(connectionKey)}`)
    const back = await renewed.next()
    expect(back).toMatchObject({ action: 4, connectionId: connected.connectionId })
    expect(back.error).toBeUndefined()
  })

  it('with allowReauthMargin prompts AUTH now and disconnects only a connection still on the revoked token 30 s later', async () => {
    const token = await jwt('erin')
    const socket = await fixture.raw(`access_token=${token}`)
    await socket.next((frame) => frame.action === 4)
    const [result] = (await admin().auth.revokeTokens([{ type: 'clientId', value: 'erin' }], { allowReauthMargin: true })).results as {
      appliesAt: number
      issuedBefore: number
    }[]
    expect(result!.appliesAt - result!.issuedBefore).toBe(30_000)
    await socket.next((frame) => frame.action === 17)
    await expect(fixture.rest({ token }).channels.get('x').history()).resolves.toBeDefined()
    fixture.clock.offset += 30_000
    expect((await socket.next((frame) => frame.action === 6)).error).toMatchObject({ code: 40141 })
  })

  it('refuses a caller authenticated with a token (40162), another key (40133) and a key without revocable tokens (40164)', async () => {
    const token = await jwt('frank')
    expect(await errorOf(rawRevoke({ targets: ['clientId:frank'] }, `Bearer ${btoa(token)}`))).toMatchObject({ status: 401, code: 40162 })
    expect(await errorOf(rawRevoke({ targets: ['clientId:frank'] }, `Basic ${btoa(keyString(ROOT_KEY))}`))).toMatchObject({ status: 401, code: 40133 })
    await expect(fixture.rest({ key: keyString(ROOT_KEY) }).auth.revokeTokens([{ type: 'clientId', value: 'frank' }])).rejects.toMatchObject({ code: 40164 })
    // ably-js itself refuses to send it with token auth, with the same code.
    await expect(fixture.rest({ token }).auth.revokeTokens([{ type: 'clientId', value: 'frank' }])).rejects.toMatchObject({ code: 40162 })
  })

  it('takes at most 100 targets, an issuedBefore no more than an hour old and not in the future, and known target types', async () => {
    const targets = (count: number) => Array.from({ length: count }, (_, index) => `clientId:user${index}`)
    expect(await errorOf(rawRevoke({ targets: targets(101) }))).toMatchObject({ status: 400, code: 40003 })
    expect((await rawRevoke({ targets: targets(100) })).status).toBe(200)
    const now = fixture.clock.now()
    expect(await errorOf(rawRevoke({ targets: ['clientId:a'], issuedBefore: now + 60_000 }))).toMatchObject({ status: 400, code: 40003 })
    expect(await errorOf(rawRevoke({ targets: ['clientId:a'], issuedBefore: now - HOUR_MS - 60_000 }))).toMatchObject({ status: 400, code: 40003 })
    expect(await errorOf(rawRevoke({ targets: ['user:a'] }))).toMatchObject({ status: 400, code: 40003 })
    expect(await errorOf(rawRevoke({ targets: [] }))).toMatchObject({ status: 400, code: 40000 })
    expect(await errorOf(rawRevoke({ targets: ['channel:x'] }))).toMatchObject({ status: 401, code: 40121 })
  })

  it('caps the tokens of a revocable key at one hour, as Ably does (40003)', async () => {
    const long = await jwt('gina', { ttlMs: HOUR_MS + 1000 })
    await expect(fixture.rest({ token: long }).channels.get('x').history()).rejects.toMatchObject({ code: 40003 })
    await expect(
      fixture
        .rest({ token: await jwt('gina', { ttlMs: HOUR_MS }) })
        .channels.get('x')
        .history(),
    ).resolves.toBeDefined()
    await expect(admin().auth.requestToken({ ttl: HOUR_MS + 1 })).rejects.toMatchObject({ code: 40003 })
    // Another key keeps Ably's 24 h.
    const root = await mintJwt({ clientId: 'gina', ttlMs: 2 * HOUR_MS, now: fixture.clock.now() })
    await expect(fixture.rest({ token: root }).channels.get('x').history()).resolves.toBeDefined()
  })
})

async function errorOf(response: Promise<Response>): Promise<{ status: number; code: unknown }> {
  const res = await response
  const body = (await res.json()) as { error?: { code?: unknown } }
  return { status: res.status, code: body.error?.code ?? res.headers.get('x-ably-errorcode') }
}
