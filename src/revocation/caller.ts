/**
 * The caller, as the identity issue's contract (`src/auth/caller.ts`, issue 12) shapes it, for the revocation code
 * until that module is in main: who is verified, and which session of theirs this is.
 */
import { base64url } from 'jose'
import type { AppUser } from '../auth/app-token.ts'

/** The fields of issue 12's `Caller` that revocation reads. */
export interface Caller {
  readonly userId: string
  readonly roles: readonly string[]
  /** The provider's session id (`sid`, `session_id`) when the app JWT carries one. */
  readonly sessionId?: string
  /** The app JWT's `jti`, when present (the session fallback). */
  readonly tokenId?: string
  readonly issuer: string
  /** The app JWT's expiry and issue time, seconds since the epoch. */
  readonly exp: number
  readonly iat?: number
}

/**
 * The caller for an app JWT the verifier has already accepted as `user`: the session claims are read from the
 * verified token's payload (its signature, expiry and user id were checked by the verifier).
 */
export function callerFromVerified(user: AppUser, appToken: string): Caller {
  const claims = payloadOf(appToken)
  const text = (value: unknown) => (typeof value === 'string' && value !== '' && value.length <= 256 ? value : undefined)
  const sessionId = text(claims.sid) ?? text(claims.session_id)
  const tokenId = text(claims.jti)
  const iat = typeof claims.iat === 'number' && Number.isFinite(claims.iat) ? claims.iat : undefined
  return {
    userId: user.userId,
    roles: user.role === undefined ? [] : [user.role],
    ...(sessionId !== undefined && { sessionId }),
    ...(tokenId !== undefined && { tokenId }),
    issuer: text(claims.iss) ?? '',
    exp: user.exp,
    ...(iat !== undefined && { iat }),
  }
}

function payloadOf(token: string): Record<string, unknown> {
  try {
    const payload: unknown = JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[1] ?? '')))
    return typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}
