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
