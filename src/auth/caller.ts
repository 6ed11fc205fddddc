/**
 * The caller contract: who the verified caller is, produced by verification and used everywhere after it
 * (capabilities, the gateway, history, the client and the server helpers). `clientId` is `userId`; channel names
 * carry `segment`, never the raw id. The segment encoding is in src/channels/segment.ts (so the browser client can
 * build the same names without the verifier), re-exported here.
 */
export { channelSegment, isAcceptedId, SEGMENT_PATTERN, segmentId } from '../channels/segment.ts'

/** Who the verified caller is, produced by verification and used everywhere after it. */
export interface Caller {
  /** The provider's user id as it is (Ably clientId). */
  readonly userId: string
  /** channelSegment(userId): the one safe channel segment for this user. */
  readonly segment: string
  /** Role names from the configured role claim (e.g. 'admin', 'org:admin'). */
  readonly roles: readonly string[]
  /** Raw membership ids from the configured membership claim (e.g. team ids); encode with channelSegment before use in a channel name. */
  readonly memberships: readonly string[]
  /** The provider's session id (sid, session_id, ...) when the token carries one. */
  readonly sessionId?: string
  /** The app JWT's `jti`, when present (revocation fallback). */
  readonly tokenId?: string
  /** The verified `iss` ('' for the HS256 self-signed mode without JWT_ISSUER). */
  readonly issuer: string
  /** The app JWT's expiry and issue time, seconds since the epoch. */
  readonly exp: number
  readonly iat?: number
}
