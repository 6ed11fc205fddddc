/**
 * Verifies the app's own login JWTs (HS256) with jose. The only module that imports jose's verifier:
 * every failure becomes one `invalid_token` error, with jose's code (or one of ours) kept as the log-only reason,
 * and a `WWW-Authenticate` that tells an expired token from an invalid one and says nothing more.
 */
import { errors, jwtVerify, type JWTPayload } from 'jose'
import { isValidId } from '../channels/index.ts'
import { AppError } from '../errors/index.ts'
import { wwwAuthenticate } from '../contract/challenge.ts'
import { lazyHmacKey } from './hmac-key.ts'

/** The verified caller. */
export interface AppUser {
  readonly userId: string
  readonly role: string | undefined
  /** The app JWT's expiry, in seconds since the epoch. */
  readonly exp: number
}

export interface AppTokenVerifierOptions {
  secret: string
  issuer?: string
  audience?: string
  maxAgeSec?: number
  clockToleranceSec?: number
  /** Tokens longer than this are refused before any parsing. */
  maxTokenLength?: number
  now?: () => number
}

export type AppTokenVerifier = (token: string) => Promise<AppUser>

/**
 * JWS header parameters that locate or carry a key (RFC 7515 §4.1.2–4.1.7). jose ignores them when it is given the
 * key; we refuse them, so a token never names where its key might come from. `kid` is a label only, and allowed.
 */
export const KEY_LOCATING_HEADERS = ['jku', 'jwk', 'x5u', 'x5c', 'x5t', 'x5t#S256'] as const

/** The log-only reasons of our own (besides jose's error codes, e.g. `ERR_JWT_EXPIRED`); README lists them all. */
export const NO_LIFETIME_LEFT = 'no lifetime left'

/** What an Authorization header must look like: the Bearer scheme (any case) and three base64url segments. */
const BEARER = /^bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i

/** Builds a verifier for app JWTs. The HMAC key is imported once, on first use. */
export function createAppTokenVerifier({
  secret,
  issuer,
  audience,
  maxAgeSec,
  clockToleranceSec = 5,
  maxTokenLength = 4096,
  now = Date.now,
}: AppTokenVerifierOptions): AppTokenVerifier {
  const importKey = lazyHmacKey(secret, 'verify')

  return async function verifyAppToken(token) {
    if (token.length > maxTokenLength) throw invalidToken('token too long')
    let payload: JWTPayload
    try {
      ;({ payload } = await jwtVerify(token, (header) => {
        if (KEY_LOCATING_HEADERS.some((name) => name in header)) throw invalidToken('key-locating header')
        return importKey()
      }, {
        algorithms: ['HS256'],
        requiredClaims: ['exp'],
        clockTolerance: clockToleranceSec,
        currentDate: new Date(now()),
        ...(issuer !== undefined && { issuer }),
        ...(audience !== undefined && { audience }),
        ...(maxAgeSec !== undefined && { maxTokenAge: maxAgeSec }),
      }))
    } catch (error) {
      if (error instanceof errors.JOSEError) throw invalidToken(error.code, error, error instanceof errors.JWTExpired)
      throw error
    }
    const nowSec = Math.floor(now() / 1000)
    const user = toUser(payload, nowSec + clockToleranceSec)
    // One rule for every route: the clock tolerance forgives a skewed `iat`/`nbf`, never an expiry. A token whose
    // `exp` is now or past has no lifetime left (jose alone would accept it for `clockToleranceSec` more).
    if (Math.floor(user.exp) <= nowSec) throw invalidToken(NO_LIFETIME_LEFT, undefined, true)
    return user
  }
}

/** The token from an `Authorization: Bearer …` header, or an `invalid_token` error. Nothing else is read. */
export function bearerToken(header: string | undefined, maxTokenLength = 4096): string {
  if (header === undefined) throw invalidToken('no authorization header')
  if (header.length > maxTokenLength + 16) throw invalidToken('authorization header too long')
  const match = BEARER.exec(header)
  if (!match?.[1]) throw invalidToken('not a bearer jwt')
  return match[1]
}

/** Checks what jose leaves to the application: the user id, the role, finite times and no `iat` in the future. */
function toUser(payload: JWTPayload, latestAcceptableSec: number): AppUser {
  // An Ably token presented as an app token is refused even if the secrets were shared by mistake.
  if ('x-ably-capability' in payload || 'x-ably-clientId' in payload) throw invalidToken('ably token used as app token')
  const userId = payload.userId !== undefined ? payload.userId : payload.sub
  if (!isValidId(userId)) throw invalidToken('invalid userId')
  const role = payload.role
  if (role !== undefined && (typeof role !== 'string' || role.length > 64)) throw invalidToken('invalid role')
  // jose lets `1e400` (Infinity) through as a number and does not look at a future `iat`.
  if (!Number.isFinite(payload.exp)) throw invalidToken('invalid exp')
  if (payload.iat !== undefined && !(Number.isFinite(payload.iat) && payload.iat <= latestAcceptableSec)) throw invalidToken('iat in the future')
  return { userId, role, exp: payload.exp as number }
}

/** The one 401 every verification failure gets: one body; expired or not in `WWW-Authenticate`; the reason in the log. */
export function invalidToken(reason: string, cause?: unknown, expired = false): AppError {
  return new AppError('invalid_token', { reason, cause, headers: { 'WWW-Authenticate': wwwAuthenticate(expired) } })
}
