/**
 * The `x-ably-revocation-key` of a session and the deny-list's key of a user: HMAC-SHA256 with a key derived from the
 * Ably key secret, so a value reveals neither the user nor the session, and nobody without the secret can compute
 * the value of another session (to revoke it, or to look it up).
 */
// By subpath: the package entry would put jose's JWKS and key-import code on the edge's HS256 path.
import * as base64url from 'jose/base64url'
import type { Caller } from '../auth/caller.ts'

/**
 * Which session a revocation key stands for: the provider's session id, else the app JWT's `jti`, else the app JWT
 * itself, named by its issuer, user, `iat` and `exp`.
 */
type SessionBasis = 'sessionId' | 'tokenId' | 'appToken'

export interface RevocationKeys {
  /** The session's revocation key (22 base64url characters, 128 bits), and what it was derived from. */
  session(caller: Caller): Promise<{ key: string; basis: SessionBasis }>
  /** The user's deny-list key. */
  user(userId: string): Promise<string>
}

const DERIVATION_LABEL = 'ably-netlify-integration/revocation/v1'

/** Builds the derivation for an Ably key secret; the derived key is computed once, on first use. */
export function createRevocationKeys(ablySecret: string): RevocationKeys {
  const encoder = new TextEncoder()
  let derived: Promise<CryptoKey> | undefined
  const key = () =>
    (derived ??= (async () => {
      const secret = await crypto.subtle.importKey('raw', encoder.encode(ablySecret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
      const material = await crypto.subtle.sign('HMAC', secret, encoder.encode(DERIVATION_LABEL))
      return crypto.subtle.importKey('raw', material, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
    })())
  // Fields are joined with NUL, which none of them contains (ids and claims are printable).
  const mac = async (...fields: string[]) =>
    base64url.encode(new Uint8Array(await crypto.subtle.sign('HMAC', await key(), encoder.encode(fields.join('\u0000'))))).slice(0, 22)

  return {
    async session(caller) {
      if (caller.sessionId !== undefined) return { key: await mac('session', caller.issuer, caller.userId, caller.sessionId), basis: 'sessionId' }
      if (caller.tokenId !== undefined) return { key: await mac('jti', caller.issuer, caller.userId, caller.tokenId), basis: 'tokenId' }
      return { key: await mac('jwt', caller.issuer, caller.userId, String(caller.iat ?? ''), String(caller.exp)), basis: 'appToken' }
    },
    user: (userId) => mac('user', userId),
  }
}
