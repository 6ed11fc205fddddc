/**
 * Alternative (c), the ceiling: a bare handler with no library and no validation beyond the MAC. It splits the
 * bearer token, MACs it with the runtime's fastest HMAC, compares, reads `userId`, and signs the Ably JWT with the
 * same capability. On Node the fastest HMAC is `createHmac` (synchronous); on Deno it is WebCrypto.
 */
import { Buffer } from 'node:buffer'
import { createHmac } from 'node:crypto'
import { ABLY_KEY_NAME, ABLY_KEY_SECRET, JWT_SECRET, TTL_SEC, type FetchHandler } from '../fixtures.ts'

/** Base64url MAC of `data`. */
type Mac = (data: string) => string
type AsyncMac = (data: string) => Promise<string>

/** Issues the `{ token }` body for an Authorization header, or `undefined` when the MAC does not match. */
export type CeilingIssuer = (authorization: string | null | undefined) => string | undefined | Promise<string | undefined>

const base64url = (text: string) => Buffer.from(text).toString('base64url')
const HEADER = base64url(JSON.stringify({ typ: 'JWT', alg: 'HS256', kid: ABLY_KEY_NAME }))
const BEARER = 'Bearer '

/** The app JWT's signing input, MAC and `userId`, split by hand. */
function split(authorization: string | null | undefined) {
  if (!authorization?.startsWith(BEARER)) return undefined
  const lastDot = authorization.lastIndexOf('.')
  const firstDot = authorization.indexOf('.')
  const payload = JSON.parse(Buffer.from(authorization.slice(firstDot + 1, lastDot), 'base64url').toString()) as { userId?: unknown }
  return { input: authorization.slice(BEARER.length, lastDot), mac: authorization.slice(lastDot + 1), userId: String(payload.userId) }
}

/** The Ably JWT's signing input for `userId`: the same claims and capability ours issues. */
function ablyInput(userId: string): string {
  const iat = Math.floor(Date.now() / 1000)
  const capability = `{"sms:${userId}:*":["history","subscribe"],"contacts:${userId}":["history","subscribe"],"notifications:${userId}":["history","presence","subscribe"]}`
  return `${HEADER}.${base64url(JSON.stringify({ iat, exp: iat + TTL_SEC, 'x-ably-capability': capability, 'x-ably-clientId': userId }))}`
}

const body = (input: string, mac: string) => `{"token":"${input}.${mac}"}`

/** Node's ceiling: `createHmac` with the secrets as strings (faster than KeyObjects there), all synchronous. */
export function nodeCeiling(): CeilingIssuer {
  const mac =
    (secret: string): Mac =>
    (data) =>
      createHmac('sha256', secret).update(data).digest('base64url')
  const appMac = mac(JWT_SECRET)
  const ablyMac = mac(ABLY_KEY_SECRET)
  return (authorization) => {
    const token = split(authorization)
    if (token === undefined || appMac(token.input) !== token.mac) return undefined
    const input = ablyInput(token.userId)
    return body(input, ablyMac(input))
  }
}

/** The WebCrypto ceiling (Deno's fastest HMAC): both keys imported once. */
export function webCryptoCeiling(): CeilingIssuer {
  const encoder = new TextEncoder()
  const mac = (secret: string): AsyncMac => {
    const key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
    return async (data) => Buffer.from(await crypto.subtle.sign('HMAC', await key, encoder.encode(data))).toString('base64url')
  }
  const appMac = mac(JWT_SECRET)
  const ablyMac = mac(ABLY_KEY_SECRET)
  return async (authorization) => {
    const token = split(authorization)
    if (token === undefined || (await appMac(token.input)) !== token.mac) return undefined
    const input = ablyInput(token.userId)
    return body(input, await ablyMac(input))
  }
}

/** The issuer as a `fetch` handler, for in-process runs and `Deno.serve`. */
export function ceilingHandler(issue: CeilingIssuer): FetchHandler {
  const json = { 'content-type': 'application/json' }
  return async (request) => {
    const issued = await issue(request.headers.get('authorization'))
    return issued === undefined ? new Response('{"error":"unauthorized"}', { status: 401, headers: json }) : new Response(issued, { headers: json })
  }
}
