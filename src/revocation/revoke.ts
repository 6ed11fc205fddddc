/**
 * Log out, as a use case: record the revocation in the deny-list first (so the token route refuses the session's
 * renewals from now on), then revoke its live Ably tokens with `revokeTokens`, retried like a publish. Success is
 * claimed only when both happened; otherwise `revocation_unavailable` (503), saying whether the deny-list has it.
 */
import { backoffMs } from '../ably-rest/backoff.ts'
import { AblyRestError, type AblyRevoke, type RevocationTarget } from '../ably-rest/index.ts'
import { AppError } from '../errors/index.ts'
import { describeError, type Logger } from '../log/index.ts'
import type { Caller } from '../auth/caller.ts'
import { RevocationStoreError, type Revoked } from './deny-list.ts'
import type { RevocationServices } from './services.ts'

/** What to revoke: the caller's own session, every session of the caller, or (admins) every session of `userId`. */
export type RevokeRequest = { scope: 'session' } | { scope: 'user'; userId?: string }

interface RevokeResult {
  scope: 'session' | 'user'
  userId: string
  /** When the revocation took effect at our end (the deny-list), ISO 8601. */
  revokedAt: string
}

export interface RevokerOptions extends RevocationServices {
  ably: AblyRevoke
  adminRoles: readonly string[]
  /** How long entries are kept when nothing bounds the sessions they cover (see `Config.revocation`). */
  retentionSec: number
  tokenTtlSec: number
  /**
   * Whether the token route answers `caller` with a TokenRequest (a capability too large for an Ably JWT). Ably's
   * tokens from a TokenRequest carry no `x-ably-revocation-key`, so a session revoke then also targets the clientId.
   */
  getsTokenRequest?: (caller: Caller, sessionKey: string) => Promise<boolean>
  retry?: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number }
  log: Logger
  now?: () => number
  sleep?: (ms: number) => Promise<void>
  random?: () => number
}

export type Revoker = (caller: Caller, request: RevokeRequest, options: { deadlineAt: number; requestId?: string }) => Promise<RevokeResult>

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Builds the use case. */
export function createRevoker({
  denyList,
  keys,
  check,
  ably,
  adminRoles,
  retentionSec,
  tokenTtlSec,
  getsTokenRequest = async () => false,
  retry = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000 },
  log,
  now = Date.now,
  sleep = realSleep,
  random = Math.random,
}: RevokerOptions): Revoker {
  const admins = new Set(adminRoles)

  /** `revokeTokens` with bounded retries, Ably's `Retry-After` honoured, never past the deadline. */
  async function revokeAtAbly(targets: RevocationTarget[], deadlineAt: number): Promise<void> {
    let lastError: unknown
    for (let attempt = 1; attempt <= retry.maxAttempts; attempt++) {
      const timeLeft = deadlineAt - now()
      if (timeLeft <= 0) break
      try {
        const results = await ably.revokeTokens(targets, { signal: AbortSignal.timeout(timeLeft) })
        const failed = results.find((result) => result.error)
        if (failed?.error) throw failed.error
        return
      } catch (error) {
        lastError = error
        if (!(error instanceof AblyRestError) || !error.retryable || attempt === retry.maxAttempts) break
        const wait = backoffMs(attempt, retry, error.retryAfterSec, random)
        if (now() + wait >= deadlineAt) break
        await sleep(wait)
      }
    }
    throw lastError ?? new AblyRestError('Ably revokeTokens: deadline reached before an attempt', { statusCode: 0 })
  }

  /** 403 `signed_out` when the caller's own session is in the deny-list (503 when that cannot be read: fail closed). */
  async function refuseRevokedCaller(caller: Caller, requestId: string | undefined): Promise<void> {
    let revoked: Revoked | undefined
    try {
      ;({ revoked } = await check(caller))
    } catch (error) {
      if (!(error instanceof RevocationStoreError)) throw error
      log({ level: 'error', msg: 'revocation_check_failed', requestId, error: describeError(error) })
      throw new AppError('revocation_unavailable', { cause: error, reason: 'deny-list', details: { recorded: false }, headers: { 'Retry-After': '1' } })
    }
    if (revoked) throw new AppError('signed_out', { reason: `session revoked (${revoked})` })
  }

  return async function revoke(caller, request, { deadlineAt, requestId }) {
    const userId = request.scope === 'user' && request.userId !== undefined ? request.userId : caller.userId
    if (userId !== caller.userId && !caller.roles.some((role) => admins.has(role))) {
      throw new AppError('forbidden', { message: "Only an admin role may revoke another user's sessions.", reason: 'revoke other user' })
    }
    // An admin's power over others ends with the admin's session: a revoked session (its app JWT still valid, perhaps
    // copied) must not go on logging other users out. Revoking oneself again stays allowed; it only takes access away.
    if (userId !== caller.userId) await refuseRevokedCaller(caller, requestId)
    const revokedAt = now()
    const userKey = await keys.user(userId)
    let targets: RevocationTarget[]
    try {
      if (request.scope === 'session') {
        const session = await keys.session(caller)
        // A session id may outlive this app JWT (the provider refreshes it), so its marker is kept the full retention;
        // a `jti` or the JWT's own claims name one app JWT, which cannot be used after its `exp`.
        const bound = session.basis === 'sessionId' ? revokedAt + retentionSec * 1000 : caller.exp * 1000
        await denyList.revokeSession(userKey, session.key, Math.max(bound, revokedAt + tokenTtlSec * 1000))
        targets = [`revocationKey:${session.key}`]
        // This device's token may be one Ably issued for a TokenRequest, which only a clientId target reaches: the
        // user's other devices are cut too, and renew at once (their sessions are not in the deny-list).
        if (await getsTokenRequest(caller, session.key)) targets.push(`clientId:${userId}`)
      } else {
        await denyList.revokeUser(userKey, revokedAt, revokedAt + retentionSec * 1000)
        targets = [`clientId:${userId}`]
      }
    } catch (error) {
      if (!(error instanceof RevocationStoreError)) throw error
      log({ level: 'error', msg: 'revocation_not_recorded', requestId, scope: request.scope, error: describeError(error) })
      throw new AppError('revocation_unavailable', { cause: error, reason: 'deny-list', details: { recorded: false }, headers: { 'Retry-After': '1' } })
    }
    try {
      await revokeAtAbly(targets, deadlineAt)
    } catch (error) {
      const ably = error instanceof AblyRestError ? { statusCode: error.statusCode, ablyCode: error.ablyCode } : {}
      log({ level: 'error', msg: 'revocation_not_sent', requestId, scope: request.scope, ...ably, error: describeError(error) })
      const retryAfterSec = error instanceof AblyRestError && error.retryAfterSec !== undefined ? Math.ceil(error.retryAfterSec) : 1
      // The deny-list has it: no renewal succeeds, but tokens already issued live until Ably revokes them or they expire.
      throw new AppError('revocation_unavailable', {
        cause: error,
        reason: 'ably',
        details: { recorded: true },
        headers: { 'Retry-After': String(retryAfterSec) },
      })
    }
    log({ level: 'info', msg: 'revoked', requestId, scope: request.scope, byAdmin: userId !== caller.userId })
    return { scope: request.scope, userId, revokedAt: new Date(revokedAt).toISOString() }
  }
}
