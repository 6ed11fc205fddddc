/**
 * Token revocation as Ably does it (https://ably.com/docs/auth/revocation): `POST /keys/{keyName}/revokeTokens` with
 * `clientId:` and `revocationKey:` targets (the latter matched against a JWT's `x-ably-revocation-key`), `issuedBefore`
 * and `allowReauthMargin`, only for keys with revocable tokens enabled, whose tokens then live at most an hour.
 */
import type { Credential } from './auth.ts'
import { HubError } from './errors.ts'

/** Tokens of a key with revocable tokens enabled live at most this long (Ably: 40003 "Excessive value for TTL"). */
export const MAX_REVOCABLE_TTL_MS = 3_600_000
/** At most this many targets per request. */
const MAX_REVOCATION_TARGETS = 100
/** `issuedBefore` may be at most this far in the past (and never in the future). */
const MAX_ISSUED_BEFORE_AGE_MS = 3_600_000
/** `allowReauthMargin` postpones enforcement by this long, and prompts live connections to renew meanwhile. */
const REAUTH_MARGIN_MS = 30_000

/** Ably's codes for revocation. */
export const TOKEN_REVOKED = 40141
const REVOKE_WITH_TOKEN = 40162
const REVOCATION_NOT_ENABLED = 40164
const WRONG_KEY_FOR_REVOCATION = 40133

/** One target's result, as Ably's `TokenRevocationSuccessResult`. */
export interface RevocationResult {
  target: string
  issuedBefore: number
  appliesAt: number
}

/** Whether a token credential is revoked (now), and what to prompt or disconnect after a revocation. */
export interface RevocationRegistry {
  /**
   * Validates and records a `revokeTokens` request made with `caller` on `keyName` (whose key must be revocable);
   * returns one result per target. Throws a HubError as Ably would.
   */
  revoke(keyName: string, body: unknown, caller: Credential, revocable: boolean): RevocationResult[]
  /** The revocation that applies to `credential` now, if any. */
  isRevoked(credential: Credential): boolean
  /** Whether a revocation recorded but not yet in force (`allowReauthMargin`) will cover `credential`. */
  isPending(credential: Credential): boolean
  /** Forgets revocations that no token they could cover outlives. */
  prune(): void
}

interface Entry {
  issuedBefore: number
  appliesAt: number
}

const TARGET = /^(clientId|revocationKey|channel):(.+)$/s

/** Creates an empty registry on `now`'s clock. */
export function createRevocationRegistry({ now = Date.now }: { now?: () => number } = {}): RevocationRegistry {
  /** `${keyName}\n${type}:${value}` → the entries for that target (a later request may revoke a later issuedBefore). */
  const entries = new Map<string, Entry[]>()
  const id = (keyName: string, target: string) => `${keyName}\n${target}`

  const targetsOf = (credential: Credential): string[] => {
    if (credential.kind !== 'token') return []
    const targets: string[] = []
    if (credential.clientId !== undefined && credential.clientId !== '*') targets.push(`clientId:${credential.clientId}`)
    if (credential.revocationKey !== undefined) targets.push(`revocationKey:${credential.revocationKey}`)
    return targets
  }

  const covering = (credential: Credential, inForce: boolean): boolean => {
    const issuedAt = credential.issuedAt
    if (issuedAt === undefined) return false
    const time = now()
    return targetsOf(credential).some((target) =>
      (entries.get(id(credential.keyName, target)) ?? []).some(
        (entry) => issuedAt < entry.issuedBefore && (inForce ? time >= entry.appliesAt : time < entry.appliesAt),
      ),
    )
  }

  return {
    revoke(keyName, body, caller, revocable) {
      if (caller.kind !== 'key') throw new HubError(REVOKE_WITH_TOKEN, 'Cannot revoke tokens when using token auth', 401)
      if (caller.keyName !== keyName) throw new HubError(WRONG_KEY_FOR_REVOCATION, 'Can only revoke tokens using the same key that issued them', 401)
      if (!revocable) throw new HubError(REVOCATION_NOT_ENABLED, 'Token revocation is not enabled for this key', 401)
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HubError(40000, 'The request body must be an object', 400)
      const { targets, issuedBefore: requestedBefore, allowReauthMargin } = body as Record<string, unknown>
      if (!Array.isArray(targets) || targets.length === 0) throw new HubError(40000, 'targets must be a non-empty array', 400)
      if (targets.length > MAX_REVOCATION_TARGETS) {
        throw new HubError(40003, `Too many targets: at most ${MAX_REVOCATION_TARGETS} per request`, 400)
      }
      if (allowReauthMargin !== undefined && typeof allowReauthMargin !== 'boolean') throw new HubError(40003, 'allowReauthMargin must be a boolean', 400)
      const time = now()
      let issuedBefore = time
      if (requestedBefore !== undefined) {
        if (typeof requestedBefore !== 'number' || !Number.isFinite(requestedBefore))
          throw new HubError(40003, 'issuedBefore must be a number of ms since the epoch', 400)
        if (requestedBefore > time) throw new HubError(40003, 'issuedBefore may not be in the future', 400)
        if (requestedBefore < time - MAX_ISSUED_BEFORE_AGE_MS) throw new HubError(40003, 'issuedBefore may be at most an hour in the past', 400)
        issuedBefore = requestedBefore
      }
      const parsed = targets.map((target) => {
        const match = typeof target === 'string' ? TARGET.exec(target) : null
        if (!match) throw new HubError(40003, 'Each target must be "clientId:<id>", "revocationKey:<key>" or "channel:<name>"', 400)
        if (match[1] === 'channel') throw new HubError(40121, 'Token revocation by channel is not enabled', 401)
        return target as string
      })
      const appliesAt = allowReauthMargin === true ? time + REAUTH_MARGIN_MS : time
      return parsed.map((target) => {
        const key = id(keyName, target)
        entries.set(key, [...(entries.get(key) ?? []), { issuedBefore, appliesAt }])
        return { target, issuedBefore, appliesAt }
      })
    },
    isRevoked: (credential) => entries.size > 0 && covering(credential, true),
    isPending: (credential) => entries.size > 0 && covering(credential, false),
    prune() {
      // Every token a revocation covers was issued before `issuedBefore` and lives at most an hour.
      const time = now()
      for (const [key, list] of entries) {
        const kept = list.filter((entry) => Math.max(entry.issuedBefore + MAX_REVOCABLE_TTL_MS, entry.appliesAt) > time)
        if (kept.length === 0) entries.delete(key)
        else entries.set(key, kept)
      }
    },
  }
}
