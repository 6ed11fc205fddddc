import { decodeProtectedHeader, jwtVerify } from 'jose'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { userCapability } from '../../src/channels/index.ts'
import { aliceClaims, appToken, bearer, craftJwt, NOW, NOW_SEC, TEST_ABLY_KEY, TEST_JWT_SECRET, testApp, testConfig } from '../support/fixtures.ts'

const ABLY_SECRET = TEST_ABLY_KEY.split(':')[1] ?? ''
const WRONG_SECRET = 'a-completely-different-secret-0123456789-XYZ'
const PEM = '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n'
const hs256 = { alg: 'HS256', typ: 'JWT' }

async function requestToken(
  headers: Record<string, string>,
  {
    method = 'POST',
    path = '/api/ably/token',
    config = testConfig(),
    body,
  }: { method?: string; path?: string; config?: ReturnType<typeof testConfig>; body?: string } = {},
) {
  const { app, logs } = testApp({ config })
  const res = await app.request(path, { method, headers, body })
  return { res, body: (await res.json()) as Record<string, unknown>, logs }
}

type Case = [id: string, description: string, token: () => Promise<string>, config?: Record<string, string>]

// Security cases J* and K02 of ../shared/reference/security-cases.md that apply to the token endpoint.
const rejected: Case[] = [
  ['J02', 'alg none, empty signature', () => craftJwt({ alg: 'none' }, aliceClaims, { literal: '' })],
  ...['None', 'NONE', 'nOnE'].map((alg): Case => ['J03', `alg ${alg}`, () => craftJwt({ alg }, aliceClaims, { literal: '' })]),
  ['J05', 'HS384 with the right key', () => craftJwt({ alg: 'HS384' }, aliceClaims, { secret: TEST_JWT_SECRET, hash: 'SHA-384' })],
  ['J05', 'HS512 with the right key', () => craftJwt({ alg: 'HS512' }, aliceClaims, { secret: TEST_JWT_SECRET, hash: 'SHA-512' })],
  ['J06', 'HS256 MACed with a public-key PEM', () => craftJwt(hs256, aliceClaims, { secret: PEM })],
  ['J06', 'RS256 with arbitrary bytes', () => craftJwt({ alg: 'RS256' }, aliceClaims, { literal: 'AAAA'.repeat(64) })],
  ...['ES256', 'EdDSA', 'PS256'].map((alg): Case => ['J07', `${alg} header`, () => craftJwt({ alg }, aliceClaims, { literal: 'AAAA'.repeat(16) })]),
  ['J08', 'alg missing', () => craftJwt({ typ: 'JWT' }, aliceClaims)],
  ['J08', 'alg as an array', () => craftJwt({ alg: ['HS256'] }, aliceClaims)],
  ['J08', 'alg null', () => craftJwt({ alg: null }, aliceClaims)],
  ['J09', 'wrong key', () => appToken({}, { secret: WRONG_SECRET })],
  ['J10', 'truncated signature', async () => (await appToken()).slice(0, -3)],
  ['J10', 'empty signature', () => craftJwt(hs256, aliceClaims, { literal: '' })],
  ['J10', '32 zero bytes as signature', () => craftJwt(hs256, aliceClaims, { literal: 'A'.repeat(43) })],
  [
    'J11',
    'payload changed, signature kept',
    async () => {
      const [h, , s] = (await appToken()).split('.')
      const [, p] = (await craftJwt(hs256, { ...aliceClaims, userId: 'bob' })).split('.')
      return `${h}.${p}.${s}`
    },
  ],
  ['J12', 'unknown critical extension', () => craftJwt({ ...hs256, crit: ['foo'], foo: 1 }, aliceClaims)],
  ['J12', 'crit naming a registered claim', () => craftJwt({ ...hs256, crit: ['exp'] }, aliceClaims)],
  ['J12', 'empty crit', () => craftJwt({ ...hs256, crit: [] }, aliceClaims)],
  ['J12', 'crit as a string', () => craftJwt({ ...hs256, crit: 'b64' }, aliceClaims)],
  ['J14', 'kid path injection, forged', () => craftJwt({ ...hs256, kid: '../../../dev/null' }, aliceClaims, { secret: WRONG_SECRET })],
  ['J14', 'kid SQL injection, forged', () => craftJwt({ ...hs256, kid: "' OR 1=1--" }, aliceClaims, { secret: WRONG_SECRET })],
  ['J15', 'jku to an attacker URL, forged', () => craftJwt({ ...hs256, jku: 'https://evil.example/jwks' }, aliceClaims, { secret: WRONG_SECRET })],
  ['J15', 'x5u to an attacker URL, forged', () => craftJwt({ ...hs256, x5u: 'https://evil.example/cert' }, aliceClaims, { secret: WRONG_SECRET })],
  ['J15', 'embedded jwk (CVE-2018-0114)', () => craftJwt({ ...hs256, jwk: { kty: 'oct', k: 'ZXZpbA' } }, aliceClaims, { secret: 'evil' })],
  // Key-locating headers are refused even on a token signed with the right secret (issue 11, defect 8).
  ...(
    [
      ['jku', 'https://evil.example/jwks'],
      ['jwk', { kty: 'oct', k: 'ZXZpbA' }],
      ['x5u', 'https://evil.example/cert'],
      ['x5c', ['MIIBszCCAVmgAwIBAgIU']],
      ['x5t', 'dGh1bWJwcmludA'],
      ['x5t#S256', 'dGh1bWJwcmludC1zaGEyNTY'],
    ] as const
  ).map(([name, value]): Case => ['J15', `${name} header on a genuine token`, () => craftJwt({ ...hs256, [name]: value }, aliceClaims)]),
  ['J16', 'exp = now - tolerance', () => appToken({ exp: NOW_SEC - 5 })],
  ['J16', 'exp inside the tolerance leaves no lifetime to hand on', () => appToken({ exp: NOW_SEC - 4 })],
  ['J17', 'exp missing', () => craftJwt(hs256, { userId: 'alice', iat: NOW_SEC })],
  ...['"9999999999"', 'null', 'true', '-1', '1e400'].map(
    (exp): Case => ['J18', `exp ${exp}`, () => craftJwt(hs256, `{"userId":"alice","iat":${NOW_SEC},"exp":${exp}}`)],
  ),
  ['J19', 'nbf in the future beyond tolerance', () => appToken({ nbf: NOW_SEC + 6 })],
  ['J20', 'iat in the future beyond tolerance', () => appToken({ iat: NOW_SEC + 6 })],
  ['J21', 'older than JWT_MAX_AGE', () => appToken({ iat: NOW_SEC - 3600 - 5 - 1, exp: NOW_SEC + 86400 }), { JWT_MAX_AGE: '3600' }],
  ['J22', 'issuer missing', () => appToken(), { JWT_ISSUER: 'https://login.example.com' }],
  ['J22', 'other issuer', () => appToken({ iss: 'https://evil.example' }), { JWT_ISSUER: 'https://login.example.com' }],
  ['J22', 'issuer as an array', () => appToken({ iss: ['https://login.example.com'] as unknown as string }), { JWT_ISSUER: 'https://login.example.com' }],
  ['J23', 'audience missing', () => appToken(), { JWT_AUDIENCE: 'realtime' }],
  ['J23', 'other audience', () => appToken({ aud: 'billing' }), { JWT_AUDIENCE: 'realtime' }],
  ['J23', 'audience array without ours', () => appToken({ aud: ['billing', 'admin'] }), { JWT_AUDIENCE: 'realtime' }],
  [
    'J24',
    'an Ably JWT we issued',
    () =>
      craftJwt(
        { ...hs256, kid: 'testApp.testKey' },
        { iat: NOW_SEC, exp: NOW_SEC + 60, 'x-ably-clientId': 'alice', 'x-ably-capability': '{"*":["*"]}' },
        { secret: ABLY_SECRET },
      ),
  ],
  ['J24', 'Ably-shaped claims signed with the app secret', () => appToken({ 'x-ably-capability': '{"*":["*"]}' })],
  ...[undefined, '', 123, '*', 'a:*', 'a:b', '../x', '[meta]x', 'аlice', 'alice ', 'a'.repeat(65)].map(
    (userId): Case => [
      'J25',
      `userId ${JSON.stringify(userId)}`,
      () => craftJwt(hs256, { iat: NOW_SEC, exp: NOW_SEC + 60, ...(userId !== undefined && { userId }) }),
    ],
  ),
  ['J25', 'bad sub when userId is absent', () => craftJwt(hs256, { sub: '*', iat: NOW_SEC, exp: NOW_SEC + 60 })],
  ['J25', 'bad userId does not fall back to a good sub', () => craftJwt(hs256, { userId: '*', sub: 'alice', iat: NOW_SEC, exp: NOW_SEC + 60 })],
  ['J25', 'role not a string', () => appToken({ role: ['admin'] as unknown as string })],
  ...['[]', '123', '"x"', 'null'].map((payload): Case => ['J26', `payload ${payload}`, () => craftJwt(hs256, payload)]),
  ['J27', 'payload not JSON', () => craftJwt(hs256, '{')],
  [
    'J28',
    'invalid UTF-8 in claims',
    async () => {
      const token = await craftJwt(hs256, aliceClaims)
      const [h, , s] = token.split('.')
      const bytes = new TextEncoder().encode(`{"userId":"al`)
      const tail = new TextEncoder().encode(`ice","exp":${NOW_SEC + 60}}`)
      const payload = Buffer.concat([bytes, Buffer.from([0xc0, 0xaf]), tail]).toString('base64url')
      return `${h}.${payload}.${s}`
    },
  ],
  ['J31', 'two segments', async () => 'a.b'],
  ['J31', 'four segments', async () => `${await appToken()}.d`],
  [
    'J31',
    'a JWE with zip and p2c',
    async () => `${Buffer.from(JSON.stringify({ alg: 'PBES2-HS256+A128KW', enc: 'A128GCM', zip: 'DEF', p2c: 2 ** 31 })).toString('base64url')}.a.b.c.d`,
  ],
  // '€' arrives as its UTF-8 bytes read as Latin-1, as an HTTP server sees it.
  ...['+', '/', '=', ' ', Buffer.from('€').toString('latin1')].map(
    (char): Case => [
      'J33',
      `non-base64url ${JSON.stringify(char)}`,
      async () => {
        const [h, p, s] = (await appToken()).split('.')
        return `${h}.${p}${char}.${s}`
      },
    ],
  ),
  ['J34', '4 KiB + 1', () => appToken({ pad: 'x'.repeat(4097) })],
  ['J34', '1 MiB header', () => craftJwt({ ...hs256, pad: 'x'.repeat(1 << 20) }, aliceClaims)],
  ...['*', 'a:*', 'a:b', '[meta]x'].map((sub): Case => ['K02', `sub ${sub}`, () => craftJwt(hs256, { sub, iat: NOW_SEC, exp: NOW_SEC + 60 })]),
]

const accepted: Case[] = [
  ['J01', 'baseline', () => appToken()],
  ['J14', 'kid is ignored on a genuine token', () => craftJwt({ ...hs256, kid: '../../../dev/null' }, aliceClaims)],
  ['J16b', 'exp one second after now, inside no tolerance', () => appToken({ exp: NOW_SEC + 1 })],
  ['J19', 'nbf = now + tolerance', () => appToken({ nbf: NOW_SEC + 5 })],
  ['J20', 'iat = now + tolerance', () => appToken({ iat: NOW_SEC + 5 })],
  ['J22', 'configured issuer', () => appToken({ iss: 'https://login.example.com' }), { JWT_ISSUER: 'https://login.example.com' }],
  ['J23', 'configured audience in an array', () => appToken({ aud: ['billing', 'realtime'] }), { JWT_AUDIENCE: 'realtime' }],
  ['J25', 'sub when userId is absent', () => craftJwt(hs256, { sub: 'alice', iat: NOW_SEC, exp: NOW_SEC + 60 })],
]

afterEach(() => vi.restoreAllMocks())

/** The cases whose token is genuine but past its time: their challenge says "expired", every other one "invalid". */
const EXPIRED = new Set(['exp = now - tolerance', 'exp -1', 'exp inside the tolerance leaves no lifetime to hand on', 'older than JWT_MAX_AGE'])

// The token route's contract: every refused app JWT is 403 `signed_out` (the one answer ably-js does not retry,
// RSA4d), with the same body for every reason and a Bearer challenge that tells expired from invalid.
describe('POST /api/ably/token rejects forged and malformed app JWTs', () => {
  it.each(rejected)('%s %s → 403 signed_out', async (_id, description, makeToken, env) => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch')
    const { res, body } = await requestToken(bearer(await makeToken()), { config: testConfig(env) })
    expect(res.status).toBe(403)
    expect(body).toEqual({
      error: 'The app session is missing, invalid or expired. Sign in again.',
      code: 'signed_out',
      requestId: res.headers.get('x-request-id'),
    })
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer error="invalid_token", error_description="${EXPIRED.has(description) ? 'The access token expired' : 'The access token is missing or invalid'}"`,
    )
    expect(fetchSpy).not.toHaveBeenCalled()
  })

  it.each([
    ['no Authorization header', {}],
    ['Basic scheme', { Authorization: `Basic ${btoa('alice:pw')}` }],
    ['Bearer with nothing after it', { Authorization: 'Bearer ' }],
  ])('%s → 403', async (_name, headers) => {
    const { res, body } = await requestToken(headers)
    expect(res.status).toBe(403)
    expect(body.code).toBe('signed_out')
  })

  it('logs why a key-locating header was refused', async () => {
    const { logs } = await requestToken(bearer(await craftJwt({ ...hs256, jku: 'https://evil.example/jwks' }, aliceClaims)))
    expect(logs).toContainEqual(expect.objectContaining({ status: 403, code: 'signed_out', reason: 'key-locating header' }))
  })

  it('J35: a token in the query, a cookie or the body is ignored', async () => {
    const token = await appToken()
    for (const { path, headers, body } of [
      { path: `/api/ably/token?token=${token}`, headers: {}, body: undefined },
      { path: `/api/ably/token?access_token=${token}`, headers: {}, body: undefined },
      { path: '/api/ably/token', headers: { Cookie: `token=${token}` }, body: undefined },
      { path: '/api/ably/token', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token }) },
    ]) {
      const { res } = await requestToken(headers, { path, body })
      expect(res.status).toBe(403)
    }
  })

  it('logs the reason but never the token', async () => {
    const token = await appToken({}, { secret: WRONG_SECRET })
    const { logs } = await requestToken(bearer(token))
    const line = JSON.stringify(logs)
    expect(logs).toContainEqual(expect.objectContaining({ status: 403, code: 'signed_out', reason: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' }))
    expect(line).not.toContain(token.split('.')[2])
    expect(line).not.toContain(TEST_JWT_SECRET)
  })
})

describe('POST /api/ably/token issues a least-privilege Ably JWT', () => {
  it.each(accepted)('%s %s → 200', async (_id, _description, makeToken, env) => {
    const { res, body } = await requestToken(bearer(await makeToken()), { config: testConfig(env) })
    expect(res.status).toBe(200)
    expect(body.clientId).toBe('alice')
  })

  it.each(['POST', 'GET'])('%s: K01/K03/K05 the issued JWT verifies with the Ably key and grants exactly the agreed capability', async (method) => {
    const { res, body } = await requestToken({ Authorization: `bearer ${await appToken()}` }, { method })
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const token = String(body.token)
    expect(token.length).toBeLessThan(2048)
    expect(decodeProtectedHeader(token)).toEqual({ typ: 'JWT', alg: 'HS256', kid: 'testApp.testKey' })
    const { payload } = await jwtVerify(token, new TextEncoder().encode(ABLY_SECRET), { algorithms: ['HS256'], currentDate: new Date(NOW) })
    const capability = JSON.parse(String(payload['x-ably-capability']))
    expect(capability).toEqual({
      'sms:alice:*': ['history', 'subscribe'],
      'contacts:alice': ['history', 'subscribe'],
      'notifications:alice': ['history', 'presence', 'subscribe'],
    })
    expect(Object.values(capability).flat()).not.toContain('publish')
    expect(Object.values(capability).flat()).not.toContain('*')
    expect(payload['x-ably-clientId']).toBe('alice')
    expect(payload.iat).toBe(NOW_SEC)
    expect(payload.exp).toBe(NOW_SEC + 3600)
    expect(body).toEqual({
      token,
      expiresIn: 3600,
      expiresAt: new Date(NOW + 3600_000).toISOString(),
      issued: NOW,
      expires: NOW + 3600_000,
      userId: 'alice',
      clientId: 'alice',
      capability: userCapability('alice'),
      timestamp: new Date(NOW).toISOString(),
    })
  })

  it('never outlives the app JWT', async () => {
    const { body } = await requestToken(bearer(await appToken({ exp: NOW_SEC + 90 })))
    expect(body.expiresIn).toBe(90)
    expect(body.expires).toBe((NOW_SEC + 90) * 1000)
  })

  it('honours ABLY_TOKEN_TTL', async () => {
    const { body } = await requestToken(bearer(await appToken()), { config: testConfig({ ABLY_TOKEN_TTL: '600' }) })
    expect(body.expiresIn).toBe(600)
  })

  it('claims the caller adds never widen the capability', async () => {
    const token = await appToken({ role: 'admin', capability: { '*': ['*'] }, clientId: '*', channels: ['sms:bob:*'] })
    const { body } = await requestToken(bearer(token))
    expect(body.capability).toEqual(userCapability('alice'))
    expect(body.clientId).toBe('alice')
  })
})
