/**
 * What every token-route contender shares: the secrets, the route, the credential's lifetime and the app JWTs the
 * load presents. Runs on Node and on Deno.
 */
import { jwtVerify, SignJWT } from 'jose'
import { userCapability } from '../../src/channels/index.ts'

/** The app's login secret and the Ably key every contender is configured with. */
export const JWT_SECRET = 'bench-app-jwt-secret-0123456789-abcdefghijklmnop'
export const ABLY_KEY_NAME = 'benchApp.benchKey'
export const ABLY_KEY_SECRET = 'bench-ably-key-secret-0123456789'
export const ABLY_API_KEY = `${ABLY_KEY_NAME}:${ABLY_KEY_SECRET}`

/** The environment ours is built from, as a host would hand it over. */
export const BENCH_ENV = { ABLY_API_KEY, JWT_SECRET } as const

export const TOKEN_PATH = '/api/ably/token'

/** The contenders served on each runtime (Express is Node's; it is not run on Deno). */
export const NODE_CONTENDERS = ['ours', 'tokenRequest', 'expressString', 'expressKeyObject', 'ceiling'] as const
export const DENO_CONTENDERS = ['ours', 'tokenRequest', 'ceiling'] as const
export type Contender = (typeof NODE_CONTENDERS)[number]
/** The Ably credential's lifetime, the same for every contender (ours defaults to it). */
export const TTL_SEC = 3600

/** A `Request` → `Response` handler, as `app.fetch`, `Deno.serve` and the edge runtimes take it. */
export type FetchHandler = (request: Request) => Response | Promise<Response>

/** The token request a browser sends: `POST` with `Authorization: Bearer <app JWT>` and no body. */
export function tokenRequest(appToken: string, origin = 'http://127.0.0.1'): Request {
  return new Request(`${origin}${TOKEN_PATH}`, { method: 'POST', headers: { authorization: `Bearer ${appToken}` } })
}

/** The user id of the `index`th bench user. */
export const benchUserId = (index: number) => `user-${index.toString().padStart(6, '0')}`

/**
 * Mints one app JWT per user, as the app's login would (jose `SignJWT`, HS256, `userId`, `role`, `iat`, `exp`), so
 * every request presents a token no earlier request presented.
 */
export async function mintAppTokens(count: number, { now = Date.now(), ttlSec = 2 * 3600 } = {}): Promise<string[]> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(JWT_SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  const iat = Math.floor(now / 1000)
  return Promise.all(
    Array.from({ length: count }, (_, index) =>
      new SignJWT({ userId: benchUserId(index), role: 'user' })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttlSec)
        .sign(key),
    ),
  )
}

/** What a contender answered for `userId`, once checked: the kind of credential and the capability it grants. */
export interface CheckedCredential {
  kind: 'ably-jwt' | 'token-request'
  clientId: string
  capability: Record<string, string[]>
}

/**
 * Checks that `body` is a credential for `userId` signed with the bench's Ably key: an Ably JWT (`kid`, HS256,
 * `x-ably-clientId`, `x-ably-capability`) or a TokenRequest whose `mac` is right. Throws otherwise, so no contender is
 * measured doing less than the job.
 */
export async function checkCredential(body: unknown, userId: string): Promise<CheckedCredential> {
  if (typeof body !== 'object' || body === null) throw new Error('credential: not a JSON object')
  const fields = body as Record<string, unknown>
  const encoder = new TextEncoder()
  const key = await crypto.subtle.importKey('raw', encoder.encode(ABLY_KEY_SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify'])
  let checked: CheckedCredential
  if (typeof fields.mac === 'string') {
    const text = (name: string) => String(fields[name] ?? '')
    const signed = `${text('keyName')}\n${text('ttl')}\n${text('capability')}\n${text('clientId')}\n${text('timestamp')}\n${text('nonce')}\n`
    const mac = btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(signed)))))
    if (mac !== fields.mac || fields.keyName !== ABLY_KEY_NAME) throw new Error('credential: TokenRequest mac or keyName is wrong')
    checked = { kind: 'token-request', clientId: text('clientId'), capability: JSON.parse(text('capability')) as Record<string, string[]> }
  } else {
    const { payload, protectedHeader } = await jwtVerify(String(fields.token), key, { algorithms: ['HS256'] })
    if (protectedHeader.kid !== ABLY_KEY_NAME) throw new Error('credential: Ably JWT kid is not the key name')
    checked = {
      kind: 'ably-jwt',
      clientId: String(payload['x-ably-clientId']),
      capability: JSON.parse(String(payload['x-ably-capability'])) as Record<string, string[]>,
    }
  }
  const canonical = (capability: Record<string, string[]>) =>
    JSON.stringify(
      Object.entries(capability)
        .map(([name, ops]) => [name, [...ops].sort()])
        .sort(),
    )
  if (checked.clientId !== userId || canonical(checked.capability) !== canonical(userCapability(userId))) {
    throw new Error(`credential: wrong clientId or capability for ${userId}: ${JSON.stringify(checked)}`)
  }
  return checked
}
