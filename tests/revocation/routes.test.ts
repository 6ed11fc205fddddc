/** Revocation through the front door (`app.request()`): config, the token route's claim and check, the revoke route. */
import { decodeJwt } from 'jose'
import { describe, expect, it } from 'vitest'
import { AblyRestError, type AblyRevoke, type RevocationTarget } from '../../src/ably-rest/index.ts'
import { ConfigError } from '../../src/config/index.ts'
import { parseConfig } from '../../src/config/parse.ts'
import { createMemoryRevocationStore, type RevocationStore } from '../../src/revocation/deny-list.ts'
import { revokeRoutes } from '../../src/revocation/routes.ts'
import { tokenRoutes } from '../../src/routes/token.ts'
import { appToken, bearer, NOW, NOW_SEC, testApp, testConfig, testEnv } from '../support/fixtures.ts'

const REVOCABLE = { ABLY_REVOCABLE_TOKENS: 'true' }

/** A scripted `revokeTokens`: answers from `answers` in turn (an error is thrown), recording each call. */
function fakeRevoke(...answers: (AblyRestError | 'ok')[]): AblyRevoke & { calls: RevocationTarget[][] } {
  const calls: RevocationTarget[][] = []
  return {
    calls,
    async revokeTokens(targets) {
      calls.push([...targets])
      const answer = answers[Math.min(calls.length - 1, answers.length - 1)] ?? 'ok'
      if (answer !== 'ok') throw answer
      return targets.map((target) => ({ target, issuedBefore: NOW, appliesAt: NOW }))
    },
  }
}

function revocationApp({
  ably = fakeRevoke('ok'),
  store = createMemoryRevocationStore(),
  env = {},
}: {
  ably?: AblyRevoke
  store?: RevocationStore
  env?: Record<string, string>
} = {}) {
  const { app, logs } = testApp({
    config: testConfig({ ...REVOCABLE, ...env }),
    routes: [tokenRoutes, revokeRoutes],
    ablyRevoke: ably,
    revocationStore: store,
  })
  return { app, logs }
}

const post = (app: ReturnType<typeof revocationApp>['app'], path: string, token: string, body?: unknown) =>
  app.request(`/api/ably/${path}`, {
    method: 'POST',
    headers: { ...bearer(token), ...(body !== undefined && { 'Content-Type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  })

const revocationKeyOf = async (res: Response) => decodeJwt(((await res.json()) as { token: string }).token)['x-ably-revocation-key']

describe('ABLY_REVOCABLE_TOKENS', () => {
  it('is off by default, and then tokens carry no revocation key and /revoke is 404', async () => {
    const { app } = testApp({ routes: [tokenRoutes, revokeRoutes] })
    const res = await app.request('/api/ably/token', { method: 'POST', headers: bearer(await appToken()) })
    expect(await revocationKeyOf(res)).toBeUndefined()
    const revoke = await app.request('/api/ably/revoke', { method: 'POST', headers: bearer(await appToken()) })
    expect(revoke.status).toBe(404)
    expect(await revoke.json()).toMatchObject({ code: 'not_found' })
  })

  it('refuses ABLY_TOKEN_TTL over 3600 when on (Ably refuses longer revocable tokens), and a value other than true/false', () => {
    expect(() => parseConfig({ ...testEnv, ...REVOCABLE, ABLY_TOKEN_TTL: '3601' })).toThrow(ConfigError)
    try {
      parseConfig({ ...testEnv, ...REVOCABLE, ABLY_TOKEN_TTL: '7200' })
    } catch (error) {
      expect((error as ConfigError).variables).toEqual(['ABLY_TOKEN_TTL'])
    }
    expect(parseConfig({ ...testEnv, ...REVOCABLE, ABLY_TOKEN_TTL: '3600' }).revocation.enabled).toBe(true)
    expect(parseConfig({ ...testEnv, ABLY_TOKEN_TTL: '7200' }).revocation.enabled).toBe(false)
    expect(() => parseConfig({ ...testEnv, ABLY_REVOCABLE_TOKENS: 'yes' })).toThrow(/ABLY_REVOCABLE_TOKENS/)
  })

  it('fails closed on a host with no shared deny-list (Workers, Deno) instead of keeping one per instance', () => {
    expect(() => testApp({ config: testConfig(REVOCABLE), routes: [tokenRoutes] })).toThrow(ConfigError)
  })
})

describe('the token route with revocation on', () => {
  it('names the session in x-ably-revocation-key: the same for one session, another for every other, revealing nothing', async () => {
    const { app } = revocationApp()
    const keyOf = async (claims: Record<string, unknown>) => revocationKeyOf(await post(app, 'token', await appToken(claims)))
    const phone = await keyOf({ sid: 'sess_phone' })
    expect(phone).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(await keyOf({ sid: 'sess_phone', iat: NOW_SEC - 60 })).toBe(phone)
    const others = [
      await keyOf({ sid: 'sess_laptop' }),
      await keyOf({ userId: 'bob', sid: 'sess_phone' }),
      await keyOf({ jti: 'sess_phone' }),
      await keyOf({ jti: 'j1' }),
      await keyOf({}),
    ]
    expect(new Set([phone, ...others]).size).toBe(6)
    for (const key of [phone, ...others]) expect(String(key)).not.toMatch(/alice|bob|sess|j1/)
    // Another Ably key secret derives other keys: nobody without the secret can compute a session's key.
    const other = testApp({
      config: testConfig({ ...REVOCABLE, ABLY_API_KEY: 'testApp.testKey:another-ably-key-secret-0123456789' }),
      routes: [tokenRoutes],
      revocationStore: createMemoryRevocationStore(),
    })
    expect(await revocationKeyOf(await post(other.app, 'token', await appToken({ sid: 'sess_phone' })))).not.toBe(phone)
  })

  it('answers a revoked session 403 signed_out before signing, and a store it cannot read 503 (fail closed)', async () => {
    const store = createMemoryRevocationStore()
    const { app } = revocationApp({ store })
    const token = await appToken({ sid: 's1' })
    expect((await post(app, 'revoke', token)).status).toBe(200)
    const refused = await post(app, 'token', token)
    expect(refused.status).toBe(403)
    expect(await refused.json()).toMatchObject({ code: 'signed_out' })

    const broken: RevocationStore = { ...store, read: () => Promise.reject(new Error('blobs down')) }
    const { app: down, logs } = revocationApp({ store: broken })
    const res = await post(down, 'token', await appToken({ sid: 's2' }))
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ code: 'revocation_unavailable' })
    expect(res.headers.get('retry-after')).toBe('2')
    expect(logs.some((line) => line.msg === 'revocation_check_failed')).toBe(true)
  })
})

describe('POST /api/ably/revoke', () => {
  it('revokes the session by its revocation key, or the user by clientId, in the deny-list first', async () => {
    const ably = fakeRevoke('ok')
    const store = createMemoryRevocationStore()
    const { app } = revocationApp({ ably, store })
    const token = await appToken({ sid: 's1' })
    const key = await revocationKeyOf(await post(app, 'token', token))
    const res = await post(app, 'revoke', token)
    expect(await res.json()).toEqual({ revoked: true, scope: 'session', userId: 'alice', revokedAt: new Date(NOW).toISOString() })
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect((await post(app, 'revoke', await appToken({ sid: 's2' }), { scope: 'user' })).status).toBe(200)
    expect(ably.calls).toEqual([[`revocationKey:${key}`], ['clientId:alice']])
  })

  it('lets an admin role revoke another user, and refuses it to anyone else (403 forbidden)', async () => {
    const ably = fakeRevoke('ok')
    const { app } = revocationApp({ ably })
    const refused = await post(app, 'revoke', await appToken({ role: 'user' }), { userId: 'bob' })
    expect(refused.status).toBe(403)
    expect(await refused.json()).toMatchObject({ code: 'forbidden' })
    const done = await post(app, 'revoke', await appToken({ role: 'admin' }), { userId: 'bob' })
    expect(await done.json()).toMatchObject({ revoked: true, scope: 'user', userId: 'bob' })
    // A user naming themself is a user-wide revoke.
    expect((await post(app, 'revoke', await appToken(), { userId: 'alice' })).status).toBe(200)
    expect(ably.calls).toEqual([['clientId:bob'], ['clientId:alice']])
  })

  it('refuses an admin whose own session is revoked the power to revoke another user (403 signed_out)', async () => {
    const ably = fakeRevoke('ok')
    const { app } = revocationApp({ ably })
    const admin = await appToken({ userId: 'root', role: 'admin', sid: 'a1' })
    expect((await post(app, 'revoke', admin)).status).toBe(200)
    const refused = await post(app, 'revoke', admin, { userId: 'bob' })
    expect(refused.status).toBe(403)
    expect(await refused.json()).toMatchObject({ code: 'signed_out', requestId: expect.any(String) })
    // Every session of the admin, revoked by the admin or by another admin, likewise.
    const other = await appToken({ userId: 'root', role: 'admin', sid: 'a2', iat: NOW_SEC - 60 })
    expect((await post(app, 'revoke', await appToken({ userId: 'boss', role: 'admin', sid: 'b1' }), { userId: 'root' })).status).toBe(200)
    expect((await post(app, 'revoke', other, { userId: 'bob' })).status).toBe(403)
    // Logging itself out again stays allowed (it only takes access away).
    expect((await post(app, 'revoke', other, { scope: 'user' })).status).toBe(200)
    expect(ably.calls).toEqual([[expect.stringMatching(/^revocationKey:/)], ['clientId:root'], ['clientId:root']])
  })

  it('answers bad requests with 400 and what would have been valid', async () => {
    const { app } = revocationApp()
    const token = await appToken()
    for (const body of [{ scope: 'device' }, { userId: 'bad id!' }, { extra: 1 }, [], { userId: 'bob', scope: 'session' }]) {
      const res = await post(app, 'revoke', token, body)
      expect(res.status).toBe(400)
      expect(await res.json()).toMatchObject({ code: 'invalid_request', details: { valid: expect.any(Array) } })
    }
    const text = await app.request('/api/ably/revoke', { method: 'POST', headers: { ...bearer(token), 'Content-Type': 'text/plain' }, body: 'x' })
    expect(text.status).toBe(415)
    expect((await app.request('/api/ably/revoke', { method: 'POST' })).status).toBe(401)
    expect((await app.request('/api/ably/revoke', { method: 'GET', headers: bearer(token) })).status).toBe(405)
  })

  it('retries revokeTokens like a publish and honours Retry-After on 429', async () => {
    const ably = fakeRevoke(
      new AblyRestError('rate limited', { statusCode: 429, ablyCode: 42910, retryAfterSec: 1 }),
      new AblyRestError('down', { statusCode: 503 }),
      'ok',
    )
    const { app } = revocationApp({ ably })
    const started = performance.now()
    const res = await post(app, 'revoke', await appToken())
    expect(res.status).toBe(200)
    expect(ably.calls).toHaveLength(3)
    // Ably's Retry-After (1 s) is a floor under the backoff.
    expect(performance.now() - started).toBeGreaterThanOrEqual(1000)
  })

  it('answers 503 revocation_unavailable and claims nothing when Ably refuses or cannot be reached; the deny-list has it', async () => {
    const store = createMemoryRevocationStore()
    const refusing = fakeRevoke(new AblyRestError('revocation not enabled', { statusCode: 401, ablyCode: 40164 }))
    const { app, logs } = revocationApp({ ably: refusing, store })
    const token = await appToken({ sid: 's1' })
    const res = await post(app, 'revoke', token)
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ code: 'revocation_unavailable', details: { recorded: true } })
    expect(refusing.calls).toHaveLength(1)
    expect(logs.find((line) => line.msg === 'revocation_not_sent')).toMatchObject({ level: 'error', ablyCode: 40164 })
    expect((await post(app, 'token', token)).status).toBe(403)

    const unreachable = fakeRevoke(new AblyRestError('no response', { statusCode: 0 }))
    const { app: offline } = revocationApp({ ably: unreachable })
    const down = await post(offline, 'revoke', await appToken())
    expect(down.status).toBe(503)
    expect(unreachable.calls.length).toBe(4)
  })

  it('answers 503 with recorded:false, and never calls Ably, when the deny-list cannot be written', async () => {
    const ably = fakeRevoke('ok')
    const broken: RevocationStore = { ...createMemoryRevocationStore(), get: () => Promise.reject(new Error('blobs down')) }
    const { app } = revocationApp({ ably, store: broken })
    const res = await post(app, 'revoke', await appToken())
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ code: 'revocation_unavailable', details: { recorded: false } })
    expect(ably.calls).toHaveLength(0)
  })
})
