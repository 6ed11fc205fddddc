/**
 * The Ably TokenRequest, signed locally: what the token route answers instead of an Ably JWT too long for a header.
 * Imported by the route only then (a policy with many memberships), so an edge isolate seldom evaluates it.
 */
import type { AblyKey } from '../config/index.ts'
import { AppError } from '../errors/index.ts'
import type { Capability } from '../policy/index.ts'
import { lazyHmacKey } from './hmac-key.ts'

/** The longest TokenRequest (JSON text) ably-js accepts from an auth callback; beyond it the signer refuses with a 403. */
const MAX_TOKEN_REQUEST_LENGTH = 2 ** 17

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
    const request = { keyName: key.name, ttl: ttlMs, capability: text, clientId, timestamp, nonce, mac: btoa(String.fromCharCode(...mac)) }
    const size = JSON.stringify(request).length
    if (size > MAX_TOKEN_REQUEST_LENGTH) {
      throw new AppError('forbidden', {
        message: `Your channels need a credential of ${size} bytes; at most ${MAX_TOKEN_REQUEST_LENGTH} can be issued (ably-js's limit). Fewer memberships would fit.`,
        details: { capabilityResources: Object.keys(capability).length },
        reason: 'capability too large',
      })
    }
    return request
  }
}
