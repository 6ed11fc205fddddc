/**
 * Issue 12 through the front door: tokens shaped like each hosted provider's, verified against a JWKS server on
 * loopback (RSA, P-256 and Ed25519 keys); rotation, outages, slow key servers, alg confusion, wrong issuer or
 * audience, `none`, key-locating headers, and the secret and the keys on at once.
 */
import { base64url, decodeJwt, exportSPKI, type JWTPayload } from 'jose'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { channelSegment } from '../../src/auth/caller.ts'
import { ConfigError, type Env } from '../../src/config/index.ts'
import { parseConfig } from '../../src/config/parse.ts'
import { craftJwt, NOW, NOW_SEC, TEST_ABLY_KEY, TEST_JWT_SECRET, testApp, appToken } from '../support/fixtures.ts'
import {
  providerShapes,
  signingKey,
  signWith,
  startJwksServer,
  type JwksServer,
  type ProviderName,
  type ProviderShape,
  type SigningKey,
} from '../support/identity-provider.ts'

let jwks: JwksServer
let rsa: SigningKey
let ec: SigningKey
let ed: SigningKey
let shapes: Record<ProviderName, ProviderShape>
const PROVIDERS: ProviderName[] = ['auth0', 'clerk', 'supabase', 'firebase', 'cognito']

beforeAll(async () => {
  ;[rsa, ec, ed] = await Promise.all([signingKey('RS256', 'rsa-1'), signingKey('ES256', 'ec-1'), signingKey('EdDSA', 'ed-1')])
  jwks = await startJwksServer([rsa.publicJwk, ec.publicJwk, ed.publicJwk])
  shapes = providerShapes(jwks.origin, { rsa, ec })
})
afterAll(() => jwks.close())
beforeEach(() => {
  jwks.keys = [rsa.publicJwk, ec.publicJwk, ed.publicJwk]
  jwks.mode = 'up'
  jwks.fetches = 0
})

const baseEnv = { ABLY_API_KEY: TEST_ABLY_KEY, ABLY_REST_URL: 'http://127.0.0.1:9', ABLY_ADMIN_ROLES: 'admin,org:admin,admins' }
const configFor = (env: Env) => parseConfig({ ...baseEnv, ...env })

/** One app (one isolate's key cache) per call; `clock` moves when a test changes `clock.now`. */
function appFor(env: Env, clock = { now: NOW }) {
  return testApp({ config: configFor(env), now: () => clock.now })
}

type App = ReturnType<typeof appFor>
async function token(app: App, jwt: string | undefined, headers: Record<string, string> = {}) {
  const res = await app.app.request('/api/ably/token', {
    method: 'POST',
    headers: { ...(jwt !== undefined && { Authorization: `Bearer ${jwt}` }), ...headers },
  })
  return { res, body: (await res.json()) as Record<string, unknown> }
}
/** Channel stats (fake Ably): 200 for one's own channel or an admin, 403 for another user's. */
async function stats(app: App, jwt: string, channelName: string) {
  return app.app.request(`/api/ably/stats?channelName=${encodeURIComponent(channelName)}`, { headers: { Authorization: `Bearer ${jwt}` } })
}

describe.each(PROVIDERS)('%s-shaped tokens', (name) => {
  const shape = () => shapes[name]

  it('get an Ably token for the provider user id, with capabilities on its segment only', async () => {
    const app = appFor(shape().env)
    const { res, body } = await token(app, await signWith(shape().key, shape().claims(0)))
    expect(res.status).toBe(200)
    const userId = shape().userId(0)
    const segment = channelSegment(userId)
    expect(body.clientId).toBe(userId)
    expect(Object.keys(body.capability as object).sort()).toEqual([`contacts:${segment}`, `notifications:${segment}`, `sms:${segment}:*`])
    expect(segment).toMatch(/^[A-Za-z0-9_~-]{1,64}$/)
    const claims = decodeJwt(String(body.token))
    expect(claims['x-ably-clientId']).toBe(userId)
  })

  it('map roles: the admin role reads another user’s channel; a plain user may not', async () => {
    const app = appFor(shape().env)
    const other = `notifications:${channelSegment(shape().userId(1))}`
    expect((await stats(app, await signWith(shape().key, shape().claims(0)), other)).status).toBe(403)
    expect((await stats(app, await signWith(shape().key, { ...shape().claims(0), ...shape().admin.claims }), other)).status).toBe(200)
    expect((await stats(app, await signWith(shape().key, shape().claims(0)), `notifications:${channelSegment(shape().userId(0))}`)).status).toBe(200)
  })

  it('are refused for another app (audience, azp, client or project) and another issuer', async () => {
    const app = appFor(shape().env)
    for (const claims of [
      { ...shape().claims(0), ...shape().foreignAudience },
      { ...shape().claims(0), iss: 'https://evil.example.net/' },
    ]) {
      const { res, body } = await token(app, await signWith(shape().key, claims))
      expect(res.status).toBe(403)
      expect(body.code).toBe('signed_out')
    }
    // The same token on the gateway's side of the status contract: 401 invalid_token.
    const res = await stats(app, await signWith(shape().key, { ...shape().claims(0), ...shape().foreignAudience }), 'contacts:x')
    expect(res.status).toBe(401)
  })
})

describe('provider specifics', () => {
  it('Supabase: neither the Postgres `role` nor user_metadata grants a role, and user_metadata cannot be configured as one', async () => {
    const app = appFor(shapes.supabase.env)
    // claims(0) carries role "authenticated" and user_metadata.role "admin": still a plain user.
    expect((await stats(app, await signWith(ec, shapes.supabase.claims(0)), `contacts:${channelSegment(shapes.supabase.userId(1))}`)).status).toBe(403)
    for (const variable of ['JWT_ROLE_CLAIM', 'JWT_MEMBERSHIP_CLAIM']) {
      expect(() => configFor({ ...shapes.supabase.env, [variable]: '/user_metadata/role' })).toThrow(ConfigError)
    }
  })

  it('Cognito: an ID token (token_use id) is refused where an access token is expected', async () => {
    const app = appFor(shapes.cognito.env)
    const { res } = await token(app, await signWith(rsa, { ...shapes.cognito.claims(0), token_use: 'id', aud: '1example23456789client' }))
    expect(res.status).toBe(403)
  })

  it('Auth0/Clerk/Supabase: the session id and jti reach the caller (the revocation issue relies on them)', async () => {
    const app = appFor({ ...shapes.clerk.env })
    const jwt = await signWith(rsa, { ...shapes.clerk.claims(0), jti: 'tok_1' })
    expect((await token(app, jwt)).res.status).toBe(200)
    const line = app.logs.find((entry) => entry.msg === 'request')
    expect(line?.userId).toBe(shapes.clerk.userId(0))
  })

  it('Clerk 60-second tokens: the Ably token never outlives them unless ABLY_TOKEN_MIN_TTL says so, and then at most that', async () => {
    const jwt = await signWith(rsa, shapes.clerk.claims(0))
    expect((await token(appFor(shapes.clerk.env), jwt)).body.expiresIn).toBe(60)
    expect((await token(appFor({ ...shapes.clerk.env, ABLY_TOKEN_MIN_TTL: '300' }), jwt)).body.expiresIn).toBe(300)
    expect(() => configFor({ ...shapes.clerk.env, ABLY_TOKEN_MIN_TTL: '3600' })).toThrow(ConfigError)
  })
})

describe('keys and algorithms', () => {
  const customEnv = { JWT_JWKS_URL: `PLACEHOLDER`, JWT_ISSUER: 'https://id.example.com/', JWT_AUDIENCE: 'realtime' }
  const env = () => ({ ...customEnv, JWT_JWKS_URL: `${jwks.origin}/.well-known/jwks.json` })
  const claims = { iss: 'https://id.example.com/', aud: 'realtime', sub: 'user-1', iat: NOW_SEC, exp: NOW_SEC + 600 }

  it.each(['rsa', 'ec', 'ed'] as const)('a %s key verifies its own tokens', async (which) => {
    const key = { rsa, ec, ed }[which]
    const { res, body } = await token(appFor(env()), await signWith(key, claims))
    expect(res.status).toBe(200)
    expect(body.clientId).toBe('user-1')
  })

  it('refuses alg confusion: an HS256 token MACed with the public key (PEM or JWK n), with and without JWT_SECRET', async () => {
    const pem = await exportSPKI(
      await crypto.subtle.importKey('jwk', rsa.publicJwk as JsonWebKey, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['verify']),
    )
    for (const secret of [pem, String(rsa.publicJwk.n), JSON.stringify(rsa.publicJwk)]) {
      const forged = await craftJwt({ alg: 'HS256', typ: 'JWT', kid: rsa.kid }, claims, { secret })
      expect((await token(appFor(env()), forged)).res.status).toBe(403)
      expect((await token(appFor({ ...env(), JWT_SECRET: TEST_JWT_SECRET, JWT_SECRET_ISSUER: 'https://self.example.com' }), forged)).res.status).toBe(403)
    }
  })

  it('refuses a token signed by a key under another algorithm (RS256 header on the EC key id) and an alg outside JWT_ALGORITHMS', async () => {
    const ecToken = await signWith(ec, claims)
    const [, payload, signature] = ecToken.split('.')
    const relabelled = `${base64url.encode(JSON.stringify({ alg: 'RS256', kid: ec.kid }))}.${payload}.${signature}`
    expect((await token(appFor(env()), relabelled)).res.status).toBe(403)
    expect((await token(appFor({ ...env(), JWT_ALGORITHMS: 'RS256' }), ecToken)).res.status).toBe(403)
    expect((await token(appFor({ ...env(), JWT_ALGORITHMS: 'RS256' }), await signWith(rsa, claims))).res.status).toBe(200)
  })

  it('refuses alg none and key-locating headers', async () => {
    const app = appFor(env())
    expect((await token(app, await craftJwt({ alg: 'none' }, claims, { literal: '' }))).res.status).toBe(403)
    for (const header of [{ jku: `${jwks.origin}/.well-known/jwks.json` }, { jwk: rsa.publicJwk }, { x5u: 'https://evil.example/x' }, { x5c: ['AAAA'] }]) {
      expect((await token(app, await signWith(rsa, claims, header))).res.status).toBe(403)
    }
  })

  it('refuses `use: enc` keys and checks `typ` where the provider sets one', async () => {
    jwks.keys = [{ ...rsa.publicJwk, use: 'enc' }]
    expect((await token(appFor(env()), await signWith(rsa, claims))).res.status).toBe(403)
    jwks.keys = [rsa.publicJwk]
    const typed = appFor({ ...env(), JWT_TYP: 'at+jwt' })
    expect((await token(typed, await signWith(rsa, claims))).res.status).toBe(403)
    expect((await token(typed, await signWith(rsa, claims, { typ: 'at+jwt' }))).res.status).toBe(200)
  })

  it('inline keys: a PEM, a JWK and a JWKS, with no network call; a PEM verifies only its own family', async () => {
    const pem = await exportSPKI(await crypto.subtle.importKey('jwk', ec.publicJwk as JsonWebKey, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']))
    const inline = { JWT_ISSUER: claims.iss, JWT_AUDIENCE: 'realtime' }
    jwks.mode = 'down'
    for (const publicKey of [pem, JSON.stringify(ec.publicJwk), JSON.stringify({ keys: [ec.publicJwk, ed.publicJwk] })]) {
      expect((await token(appFor({ ...inline, JWT_PUBLIC_KEY: publicKey }), await signWith(ec, claims))).res.status).toBe(200)
    }
    // An RS256 token whose header points at the EC PEM: importSPKI refuses the family.
    expect((await token(appFor({ ...inline, JWT_PUBLIC_KEY: pem }), await signWith(rsa, claims))).res.status).toBe(403)
    expect(jwks.fetches).toBe(0)
  })
})

describe('the key set over time', () => {
  const env = () => ({
    JWT_JWKS_URL: `${jwks.origin}/.well-known/jwks.json`,
    JWT_ISSUER: 'https://id.example.com/',
    JWT_AUDIENCE: 'realtime',
    JWT_JWKS_COOLDOWN: '30',
    JWT_JWKS_CACHE_MAX_AGE: '600',
  })
  const claims = (exp = NOW_SEC + 7200) => ({ iss: 'https://id.example.com/', aud: 'realtime', sub: 'user-1', iat: NOW_SEC, exp })

  it('is fetched once, lazily, and reused', async () => {
    const app = appFor(env())
    expect(jwks.fetches).toBe(0)
    for (let i = 0; i < 3; i++) expect((await token(app, await signWith(rsa, claims()))).res.status).toBe(200)
    expect(jwks.fetches).toBe(1)
  })

  it('a key rotation signs nobody out: a new kid triggers one refetch, and the old key keeps working', async () => {
    const clock = { now: NOW }
    const app = appFor(env(), clock)
    jwks.keys = [rsa.publicJwk]
    expect((await token(app, await signWith(rsa, claims()))).res.status).toBe(200)
    const next = await signingKey('RS256', 'rsa-2')
    jwks.keys = [rsa.publicJwk, next.publicJwk]
    // A new key seen inside the cool-down of the last fetch: retry later (503), never a sign-out.
    const early = await token(app, await signWith(next, claims()))
    expect([early.res.status, early.body.code]).toEqual([503, 'auth_keys_unavailable'])
    clock.now = NOW + 60_000
    expect((await token(app, await signWith(next, claims()))).res.status).toBe(200)
    expect((await token(app, await signWith(rsa, claims()))).res.status).toBe(200)
    expect(jwks.fetches).toBe(2)
  })

  it('JWKS down with no cached keys: 503 auth_keys_unavailable with Retry-After, logged with the host and never the token', async () => {
    jwks.mode = 'reset'
    const app = appFor(env())
    const jwt = await signWith(rsa, claims())
    const { res, body } = await token(app, jwt)
    expect(res.status).toBe(503)
    expect(body.code).toBe('auth_keys_unavailable')
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    const text = JSON.stringify(app.logs)
    expect(text).toContain(new URL(jwks.origin).host)
    expect(text).not.toContain(jwt)
    expect(text).not.toContain(jwt.split('.')[2])
    expect(app.logs.some((entry) => entry.msg === 'jwks_fetch_failed' && entry.level === 'warn')).toBe(true)
    // Inside the cool-down, no new fetch: the answer stays 503 until Retry-After.
    const fetches = jwks.fetches
    expect((await token(app, jwt)).res.status).toBe(503)
    expect(jwks.fetches).toBe(fetches)
  })

  it('JWKS down with cached keys: known keys keep working, before and after the cache age; an unknown kid is 503', async () => {
    const clock = { now: NOW }
    const app = appFor(env(), clock)
    expect((await token(app, await signWith(rsa, claims()))).res.status).toBe(200)
    jwks.mode = 'down'
    expect((await token(app, await signWith(rsa, claims()))).res.status).toBe(200)
    // Past the cache's age: a refresh is tried, fails, and the last good set is served.
    clock.now = NOW + 601_000
    expect((await token(app, await signWith(rsa, claims()))).res.status).toBe(200)
    expect(jwks.fetches).toBe(2)
    expect(app.logs.some((entry) => entry.msg === 'jwks_fetch_failed' && entry.servingLastGood === true)).toBe(true)
    const stranger = await signingKey('RS256', 'rsa-unknown')
    const { res, body } = await token(app, await signWith(stranger, claims()))
    expect([res.status, body.code]).toEqual([503, 'auth_keys_unavailable'])
  })

  it('an unknown kid inside the cool-down is 503 with Retry-After; after it, one refetch, and a kid still unknown is the token’s fault', async () => {
    const clock = { now: NOW }
    const app = appFor(env(), clock)
    const stranger = await signingKey('RS256', 'rsa-unknown')
    // First contact fetches; the unknown kid right after is inside the cool-down.
    const first = await token(app, await signWith(stranger, claims()))
    expect(first.res.status).toBe(503)
    expect(Number(first.res.headers.get('retry-after'))).toBe(30)
    clock.now = NOW + 31_000
    const later = await token(app, await signWith(stranger, claims()))
    expect([later.res.status, later.body.code]).toEqual([403, 'signed_out'])
    expect(jwks.fetches).toBe(2)
  })

  it('a slow JWKS server: an answer inside the fetch bound is used; a slower one is cut off inside the deadline with a 503', async () => {
    jwks.mode = 'slow'
    jwks.delayMs = 150
    expect((await token(appFor({ ...env(), JWT_JWKS_TIMEOUT_MS: '2000' }), await signWith(rsa, claims()))).res.status).toBe(200)
    jwks.delayMs = 3000
    const { res, body } = await token(appFor({ ...env(), JWT_JWKS_TIMEOUT_MS: '200' }), await signWith(rsa, claims()))
    expect([res.status, body.code]).toEqual([503, 'auth_keys_unavailable'])
  })
})

describe('the secret and the keys on at once', () => {
  const env = () => ({ ...shapes.auth0.env, JWT_SECRET: TEST_JWT_SECRET, JWT_SECRET_ISSUER: 'https://self.example.com' })
  const selfClaims = (claims: JWTPayload) => ({ iss: 'https://self.example.com', iat: NOW_SEC, exp: NOW_SEC + 600, ...claims })

  it('the alg picks the verifier: an HS256 token of the app’s own login and a provider token both work', async () => {
    const app = appFor(env())
    const own = await token(app, await appToken(selfClaims({ userId: 'legacy_7' })))
    expect([own.res.status, own.body.clientId]).toEqual([200, 'legacy_7'])
    const hosted = await token(app, await signWith(rsa, shapes.auth0.claims(0)))
    expect([hosted.res.status, hosted.body.clientId]).toEqual([200, shapes.auth0.userId(0)])
  })

  it('an HS256 token claiming a provider-style id, or the provider’s issuer, is refused', async () => {
    const app = appFor(env())
    expect((await token(app, await appToken(selfClaims({ userId: shapes.auth0.userId(0) })))).res.status).toBe(403)
    expect((await token(app, await appToken(selfClaims({ userId: 'legacy_7', iss: `${jwks.origin}/` })))).res.status).toBe(403)
    expect((await token(app, await appToken({ userId: 'legacy_7' }))).res.status).toBe(403)
  })

  it('needs JWT_SECRET_ISSUER, different from JWT_ISSUER', () => {
    for (const extra of [{}, { JWT_SECRET_ISSUER: `${jwks.origin}/` }]) {
      expect(() => configFor({ ...shapes.auth0.env, JWT_SECRET: TEST_JWT_SECRET, ...extra })).toThrow(/JWT_SECRET_ISSUER/)
    }
  })
})

describe('configuration refuses a verifier it cannot trust', () => {
  it.each([
    ['keys without JWT_ISSUER', { JWT_JWKS_URL: 'https://id.example.com/jwks.json', JWT_AUDIENCE: 'x' }, 'JWT_ISSUER'],
    ['keys without any audience check', { JWT_JWKS_URL: 'https://id.example.com/jwks.json', JWT_ISSUER: 'https://id.example.com/' }, 'JWT_AUDIENCE'],
    ['Cognito without a client id', { JWT_PROVIDER: 'cognito', JWT_ISSUER: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x' }, 'JWT_AUDIENCE'],
    [
      'a plain-http JWKS off loopback',
      { JWT_JWKS_URL: 'http://id.example.com/jwks.json', JWT_ISSUER: 'https://id.example.com/', JWT_AUDIENCE: 'x' },
      'JWT_JWKS_URL',
    ],
    ['an unknown provider', { JWT_PROVIDER: 'okta', JWT_ISSUER: 'https://id.example.com/', JWT_AUDIENCE: 'x' }, 'JWT_PROVIDER'],
    [
      'HS384 in JWT_ALGORITHMS',
      { JWT_JWKS_URL: 'https://id.example.com/jwks.json', JWT_ISSUER: 'https://id.example.com/', JWT_AUDIENCE: 'x', JWT_ALGORITHMS: 'HS384' },
      'JWT_ALGORITHMS',
    ],
    ['a role claim that is not a JSON Pointer', { JWT_SECRET: TEST_JWT_SECRET, JWT_ROLE_CLAIM: 'app_metadata.role' }, 'JWT_ROLE_CLAIM'],
    ['a role under Clerk’s unsafe metadata', { JWT_SECRET: TEST_JWT_SECRET, JWT_ROLE_CLAIM: '/unsafe_metadata/role' }, 'JWT_ROLE_CLAIM'],
    ['neither a secret nor keys', {}, 'JWT_SECRET'],
    [
      'a private JWK as the public key',
      { JWT_PUBLIC_KEY: JSON.stringify({ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA', d: 'AA' }), JWT_ISSUER: 'https://id.example.com/', JWT_AUDIENCE: 'x' },
      'JWT_PUBLIC_KEY',
    ],
    [
      'a private PEM as the public key',
      { JWT_PUBLIC_KEY: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----', JWT_ISSUER: 'https://id.example.com/', JWT_AUDIENCE: 'x' },
      'JWT_PUBLIC_KEY',
    ],
    [
      'a symmetric JWK',
      { JWT_PUBLIC_KEY: JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }), JWT_ISSUER: 'https://id.example.com/', JWT_AUDIENCE: 'x' },
      'JWT_PUBLIC_KEY',
    ],
    ['JSON that is not a key', { JWT_PUBLIC_KEY: '{"hello":1}', JWT_ISSUER: 'https://id.example.com/', JWT_AUDIENCE: 'x' }, 'JWT_PUBLIC_KEY'],
  ] as [string, Env, string][])('%s', (_name, env, variable) => {
    let error: unknown
    try {
      configFor(env)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).variables).toContain(variable)
  })

  it('presets need three variables: JWT_PROVIDER, JWT_ISSUER and the audience', () => {
    const config = configFor({ JWT_PROVIDER: 'auth0', JWT_ISSUER: 'https://tenant.auth0.com/', JWT_AUDIENCE: 'https://api.example.com' })
    expect(config.jwt.keys).toMatchObject({
      jwksUrl: 'https://tenant.auth0.com/.well-known/jwks.json',
      issuer: 'https://tenant.auth0.com/',
      audiences: ['https://api.example.com'],
    })
    expect(config.jwt.secret).toBeUndefined()
  })
})

describe('JWT_COOKIE', () => {
  const env = () => ({ ...shapes.clerk.env, JWT_COOKIE: '__session' })

  it('the token route reads the app JWT from the cookie when there is no Authorization header', async () => {
    const jwt = await signWith(rsa, shapes.clerk.claims(0))
    const { res, body } = await token(appFor(env()), undefined, { Cookie: `other=1; __session=${jwt}` })
    expect([res.status, body.clientId]).toEqual([200, shapes.clerk.userId(0)])
  })

  it('GET, as ably-js authUrl sends it, reads the cookie too; the header wins over the cookie when both are sent', async () => {
    const jwt = await signWith(rsa, shapes.clerk.claims(0))
    const app = appFor(env())
    const res = await app.app.request('/api/ably/token', { headers: { Cookie: `__session=${jwt}` } })
    expect(res.status).toBe(200)
    const other = await signWith(rsa, shapes.clerk.claims(1))
    const both = await token(app, other, { Cookie: `__session=${jwt}` })
    expect(both.body.clientId).toBe(shapes.clerk.userId(1))
  })

  it('the gateway keeps requiring the header: a cookie alone is a 401 there', async () => {
    const jwt = await signWith(rsa, shapes.clerk.claims(0))
    const app = appFor(env())
    const res = await app.app.request(`/api/ably/stats?channelName=contacts:${channelSegment(shapes.clerk.userId(0))}`, {
      headers: { Cookie: `__session=${jwt}` },
    })
    expect(res.status).toBe(401)
  })

  it('a bad cookie is refused like a bad header, 403 signed_out', async () => {
    const { res, body } = await token(appFor(env()), undefined, { Cookie: '__session=not.a.jwt' })
    expect([res.status, body.code]).toEqual([403, 'signed_out'])
  })
})

describe('sizes', () => {
  it('real provider tokens with many claims fit the app-JWT cap (8 KiB) and are accepted', async () => {
    const permissions = Array.from({ length: 60 }, (_, i) => `read:resource-${i}`)
    const auth0 = await signWith(rsa, {
      ...shapes.auth0.claims(0),
      permissions,
      'https://example.com/roles': ['admin', 'editor', 'viewer'],
      scope: 'openid profile email offline_access',
    })
    const groups = Array.from({ length: 40 }, (_, i) => `group-with-a-long-name-${i}`)
    const cognito = await signWith(rsa, { ...shapes.cognito.claims(0), 'cognito:groups': groups })
    for (const [app, jwt] of [
      [appFor(shapes.auth0.env), auth0],
      [appFor(shapes.cognito.env), cognito],
    ] as const) {
      expect(jwt.length).toBeGreaterThan(2048)
      expect(jwt.length).toBeLessThan(8192)
      expect((await token(app, jwt)).res.status).toBe(200)
    }
    console.info(`app-JWT sizes: Auth0 with 60 permissions ${auth0.length} B, Cognito in 40 groups ${cognito.length} B`)
    expect((await token(appFor(shapes.auth0.env), await signWith(rsa, { ...shapes.auth0.claims(0), pad: 'x'.repeat(8200) }))).res.status).toBe(403)
  })
})

describe('the caller each provider’s token becomes', () => {
  it.each(PROVIDERS)('%s: user id, segment, roles, memberships, session, jti and issuer', async (name) => {
    const { createAppTokenVerifier } = await import('../../src/auth/app-token.ts')
    const shape = shapes[name]
    const config = configFor(shape.env)
    const verify = createAppTokenVerifier(config.jwt, { now: () => NOW })
    const caller = await verify(await signWith(shape.key, { ...shape.claims(0), ...shape.admin.claims, org_id: 'org_2team', jti: 'jti-1' }))
    const expected = {
      auth0: { roles: ['admin'], memberships: ['org_2team'], sessionId: 'auth0sess0' },
      clerk: { roles: ['org:admin'], memberships: ['org_2team'], sessionId: 'sess_2abc0' },
      supabase: { roles: ['admin'], memberships: [], sessionId: '5e551on0-0000-4000-8000-000000000000' },
      firebase: { roles: ['admin'], memberships: [] },
      cognito: { roles: ['admins', 'staff'], memberships: [], sessionId: '0rigin0-jti' },
    }[name]
    expect(caller).toEqual({
      userId: shape.userId(0),
      segment: channelSegment(shape.userId(0)),
      issuer: config.jwt.keys?.issuer,
      tokenId: 'jti-1',
      exp: expect.any(Number),
      iat: NOW_SEC,
      ...expected,
    })
  })
})
