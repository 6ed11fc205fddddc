/**
 * Signs Ably JWTs locally with the Ably key secret: no network call. ably-js accepts them directly as
 * tokens (https://ably.com/docs/auth/token/jwt): HS256, `kid` = key name, `x-ably-clientId`, `x-ably-capability`.
 */
import * as base64url from 'jose/base64url'
import type { Capability } from '../policy/index.ts'
import type { AblyKey } from '../config/index.ts'
import { lazyHmacKey } from './hmac-key.ts'

interface AblyTokenClaims {
  clientId: string
  capability: Capability
  /** Issued-at and expiry, in seconds since the epoch. */
  iat: number
  exp: number
  /** `x-ably-revocation-key`: the session's key, which `revokeTokens` can target (revocation on). */
  revocationKey?: string
}

export type AblyTokenSigner = (claims: AblyTokenClaims) => Promise<string>

/** Builds a signer for `key`. The header is encoded once and the HMAC key imported once, on first use. */
export function createAblyTokenSigner(key: AblyKey): AblyTokenSigner {
  const encoder = new TextEncoder()
  const header = base64url.encode(JSON.stringify({ typ: 'JWT', alg: 'HS256', kid: key.name }))
  const importKey = lazyHmacKey(key.secret, 'sign')

  return async function signAblyToken({ clientId, capability, iat, exp, revocationKey }) {
    const claims = { iat, exp, 'x-ably-capability': JSON.stringify(capability), 'x-ably-clientId': clientId }
    const payload = base64url.encode(JSON.stringify(revocationKey === undefined ? claims : { ...claims, 'x-ably-revocation-key': revocationKey }))
    const signingInput = `${header}.${payload}`
    const signature = await crypto.subtle.sign('HMAC', await importKey(), encoder.encode(signingInput))
    return `${signingInput}.${base64url.encode(new Uint8Array(signature))}`
  }
}

/** An Ably TokenRequest, signed with the key: the browser redeems it at Ably (`POST /keys/{keyName}/requestToken`). */
interface AblyTokenRequest {
  keyName: string
  /** Milliseconds. */
  ttl: number
  /** The capability as JSON text, as it was signed. */
  capability: string
  clientId: string
  /** Milliseconds since the epoch; Ably refuses a request more than 2 minutes away from its clock. */
  timestamp: number
  nonce: string
  mac: string
}

export type AblyTokenRequestSigner = (request: { clientId: string; capability: Capability; ttlMs: number; timestamp: number }) => Promise<AblyTokenRequest>

/**
 * Builds a TokenRequest signer for `key`: Ably's MAC (HMAC-SHA256, base64) over `keyName\nttl\ncapability\nclientId\n
 * timestamp\nnonce\n`. Still no network call from our side; the token it buys carries no capability in itself, so it
 * fits where an Ably JWT (whose capability travels in a header) does not.
 */
export function createAblyTokenRequestSigner(key: AblyKey): AblyTokenRequestSigner {
  const encoder = new TextEncoder()
  const importKey = lazyHmacKey(key.secret, 'sign')
  return async ({ clientId, capability, ttlMs, timestamp }) => {
    const nonce = Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, '0')).join('')
    const text = JSON.stringify(capability)
    const signed = `${key.name}\n${ttlMs}\n${text}\n${clientId}\n${timestamp}\n${nonce}\n`
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await importKey(), encoder.encode(signed)))
    return { keyName: key.name, ttl: ttlMs, capability: text, clientId, timestamp, nonce, mac: btoa(String.fromCharCode(...mac)) }
  }
}
