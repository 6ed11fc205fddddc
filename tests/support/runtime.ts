/**
 * Checks shared by the runtime proofs (Deno, workerd). The entry files run on the real clock, so tokens are minted
 * for now; assertions use `node:assert`, which Node and Deno both provide.
 */
import assert from 'node:assert/strict'
import { decodeProtectedHeader, jwtVerify } from 'jose'
import type { TokenResponse } from '../../src/contract/index.ts'
import { appToken, bearer, TEST_ABLY_KEY, TEST_JWT_SECRET } from './fixtures.ts'

const [ABLY_KEY_NAME = '', ABLY_SECRET = ''] = TEST_ABLY_KEY.split(':')
/** A secret that is not the app's: tokens signed with it must be refused. */
export const WRONG_JWT_SECRET = 'a-completely-different-secret-0123456789-XYZ'

/** The variables of `env` that are set, as a runtime would hand them over. */
export function definedVars(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined))
}

/** An app JWT for `alice`, valid for ten minutes from now. */
async function liveAppToken(options: { secret?: string } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return appToken({ iat: now, exp: now + 600 }, options)
}

/** `POST /api/ably/token` with a valid app JWT (or one signed with `secret`), against `origin`. */
export async function tokenRequest(origin: string, { secret = TEST_JWT_SECRET }: { secret?: string } = {}): Promise<Request> {
  return new Request(`${origin}/api/ably/token`, { method: 'POST', headers: bearer(await liveAppToken({ secret })) })
}

/** Asserts a 200 whose Ably JWT verifies with the test Ably key (HS256, `kid` = key name) and is `alice`'s alone. */
export async function assertAblyToken(res: Response): Promise<void> {
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('cache-control'), 'no-store')
  const body = (await res.json()) as TokenResponse
  assert.deepEqual(decodeProtectedHeader(body.token), { typ: 'JWT', alg: 'HS256', kid: ABLY_KEY_NAME })
  const { payload } = await jwtVerify(body.token, new TextEncoder().encode(ABLY_SECRET), { algorithms: ['HS256'] })
  assert.equal(payload['x-ably-clientId'], 'alice')
  assert.equal(body.clientId, 'alice')
  assert.deepEqual(Object.keys(JSON.parse(String(payload['x-ably-capability']))).sort(), ['contacts:alice', 'notifications:alice', 'sms:alice:*'])
}

/** Asserts the one 403 the token route gives every bad app JWT: `{ error, code, requestId }` and a Bearer challenge. */
export async function assertSignedOut(res: Response): Promise<void> {
  assert.equal(res.status, 403)
  assert.equal(res.headers.get('www-authenticate'), 'Bearer error="invalid_token", error_description="The access token is missing or invalid"')
  assert.deepEqual(await res.json(), {
    error: 'The app session is missing, invalid or expired. Sign in again.',
    code: 'signed_out',
    requestId: res.headers.get('x-request-id'),
  })
}

/** Asserts the fixed security headers that every response carries, errors included. */
export function assertSecurityHeaders(res: Response): void {
  assert.equal(res.headers.get('content-security-policy'), "default-src 'none'; frame-ancestors 'none'")
  assert.equal(res.headers.get('x-frame-options'), 'DENY')
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
  assert.equal(res.headers.get('strict-transport-security'), 'max-age=31536000; includeSubDomains')
}

/** Asserts the generic 500 a function with a bad configuration answers: `internal_error`, the requestId, security headers. */
export async function assertConfigErrorResponse(res: Response): Promise<void> {
  assert.equal(res.status, 500)
  assertSecurityHeaders(res)
  const body = (await res.json()) as Record<string, unknown>
  assert.deepEqual(Object.keys(body).sort(), ['code', 'error', 'requestId'])
  assert.equal(body.code, 'internal_error')
  assert.equal(body.requestId, res.headers.get('x-request-id'))
}
