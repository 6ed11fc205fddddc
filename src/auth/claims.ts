/**
 * Claim mapping: where in a verified payload the user id, roles, session and memberships are, addressed with JSON
 * Pointers (RFC 6901), so a URL-style claim name (`/https:~1~1example.com~1roles`) cannot be confused with a nested
 * path (`/app_metadata/role`). Turns a verified payload into the {@link Caller}.
 */
import type { JWTPayload } from 'jose'
import { channelSegment, isAcceptedId, type Caller } from './caller.ts'

/** A parsed JSON Pointer: its reference tokens, unescaped (parsed from configuration by `./pointer.ts`). */
export type Pointer = readonly string[]

export interface ClaimMapping {
  /** Tried in order; the first present wins (self-signed default: `/userId`, then `/sub`). */
  readonly user: readonly Pointer[]
  readonly role?: Pointer
  readonly session?: Pointer
  readonly membership?: Pointer
  /** The self-signed default (`/role`): one role as a string, never a list. */
  readonly singleRole?: boolean
}

/** Cognito group names reach 128 characters, and a user may be in many groups. */
const MAX_ROLES = 100
const MAX_ROLE_LENGTH = 128
/** A self-signed token's single `role`, as before providers. */
const MAX_SINGLE_ROLE_LENGTH = 64
const MAX_MEMBERSHIPS = 100

/** The value at `pointer`, own properties only (never `__proto__` or an inherited one); arrays by decimal index. */
function readPointer(document: unknown, pointer: Pointer): unknown {
  let value = document
  for (const token of pointer) {
    if (Array.isArray(value)) {
      if (!/^(0|[1-9]\d{0,5})$/.test(token)) return undefined
      value = value[Number(token)]
    } else if (typeof value === 'object' && value !== null && Object.hasOwn(value, token)) {
      value = (value as Record<string, unknown>)[token]
    } else {
      return undefined
    }
  }
  return value
}

/** Why a payload could not become a caller; the verifier turns it into `invalid_token` with this as the log reason. */
export class ClaimError extends Error {
  override readonly name = 'ClaimError'
}

/** The caller a verified payload names, under `mapping`; throws a {@link ClaimError} on a missing or malformed claim. */
export function toCaller(payload: JWTPayload, mapping: ClaimMapping, issuer: string): Caller {
  // An Ably token presented as an app token is refused even if the secrets were shared by mistake.
  if ('x-ably-capability' in payload || 'x-ably-clientId' in payload) throw new ClaimError('ably token used as app token')
  const userId = mapping.user.map((pointer) => readPointer(payload, pointer)).find((value) => value !== undefined)
  if (!isAcceptedId(userId)) throw new ClaimError('invalid userId')
  const role = mapping.role ? readPointer(payload, mapping.role) : undefined
  if (mapping.singleRole && role !== undefined && !(typeof role === 'string' && role.length <= MAX_SINGLE_ROLE_LENGTH)) throw new ClaimError('invalid role')
  const roles = stringList(role, MAX_ROLES, 'role')
  const memberships = mapping.membership ? stringList(readPointer(payload, mapping.membership), MAX_MEMBERSHIPS, 'membership') : []
  const sessionId = mapping.session ? readPointer(payload, mapping.session) : undefined
  if (sessionId !== undefined && !isAcceptedId(sessionId)) throw new ClaimError('invalid session id')
  const tokenId = payload.jti
  if (tokenId !== undefined && !isAcceptedId(tokenId)) throw new ClaimError('invalid jti')
  if (!Number.isFinite(payload.exp)) throw new ClaimError('invalid exp')
  return {
    userId,
    segment: channelSegment(userId),
    roles,
    memberships,
    ...(sessionId !== undefined && { sessionId }),
    ...(tokenId !== undefined && { tokenId }),
    issuer,
    exp: payload.exp as number,
    ...(payload.iat !== undefined && { iat: payload.iat }),
  }
}

/** A claim that is absent, a string, or an array of strings: bounded in count and length. */
function stringList(value: unknown, max: number, what: string): string[] {
  if (value === undefined || value === null) return []
  const list = Array.isArray(value) ? value : [value]
  if (list.length > max || !list.every((item) => typeof item === 'string' && item.length >= 1 && item.length <= (what === 'role' ? MAX_ROLE_LENGTH : 256))) {
    throw new ClaimError(`invalid ${what}`)
  }
  return list as string[]
}
