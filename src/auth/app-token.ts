/**
 * Verifies app JWTs with jose and turns them into the {@link Caller}. Two verifiers may be on at once: the HS256
 * secret (the app's own login) and the provider's keys (a JWKS URL or inline keys). The token's `alg` picks one,
 * never "try one, then the other", and each is bound to its own issuer. Every failure of a token becomes one
 * `invalid_token` error, with jose's code (or one of ours) kept as the log-only reason, and a `WWW-Authenticate` that
 * tells an expired token from an invalid one and says nothing more. The key-set code (`keys.ts`) is loaded only when
 * keys are configured.
 */
// jose by subpath, so an edge bundle split by dynamic import keeps the key-set code (keys.ts) out of the HS256 path.
import type { JWTPayload, JWTVerifyOptions, ProtectedHeaderParameters } from 'jose'
import { decodeProtectedHeader } from 'jose/decode/protected_header'
import * as errors from 'jose/errors'
import { jwtVerify } from 'jose/jwt/verify'
import type { JwtConfig } from '../config/jwt.ts'
import { AppError } from '../errors/index.ts'
import { wwwAuthenticate } from '../contract/challenge.ts'
import type { Logger } from '../log/index.ts'
import type { Caller } from './caller.ts'
import { ClaimError, toCaller } from './claims.ts'
import { lazyHmacKey } from './hmac-key.ts'
import { loadOnce } from '../lazy/index.ts'

export type AppTokenVerifier = (token: string) => Promise<Caller>

export interface VerifierDeps {
  now?: () => number
  log?: Logger
}

/**
 * Verifies a token whose header was checked, with `options` (the checks every verifier makes) and its own algorithms,
 * issuer and audience; resolves to the verified payload (for a provider's token, its `azp` and required claims checked
 * too: `keys.ts`), or throws jose's or our error.
 */
export type PayloadVerifier = (token: string, header: ProtectedHeaderParameters, options: JWTVerifyOptions) => Promise<JWTPayload>

/**
 * JWS header parameters that locate or carry a key (RFC 7515 §4.1.2–4.1.7). jose ignores them when it is given the
 * key; we refuse them, so a token never names where its key might come from. `kid` is a label only, and allowed.
 */
const KEY_LOCATING_HEADERS = ['jku', 'jwk', 'x5u', 'x5c', 'x5t', 'x5t#S256'] as const

/** The log-only reasons of our own (besides jose's error codes, e.g. `ERR_JWT_EXPIRED`); README lists them all. */
const NO_LIFETIME_LEFT = 'no lifetime left'

/** What an Authorization header must look like: the Bearer scheme (any case) and three base64url segments. */
const BEARER = /^bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i
/** The cap on a self-signed (HS256) app JWT, in characters; provider tokens may reach `JwtConfig.maxTokenLength`. */
const MAX_SELF_SIGNED_LENGTH = 4096
const PLAIN_ID = /^[A-Za-z0-9_-]{1,64}$/
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

/** Builds the verifier `jwt` describes. Keys are imported (or fetched) on first use, never per request. */
export function createAppTokenVerifier(jwt: JwtConfig, { now = Date.now, log = () => {} }: VerifierDeps = {}): AppTokenVerifier {
  const { clockToleranceSec, maxTokenLength, keys } = jwt
  const secretVerifier = jwt.secret === undefined ? undefined : hs256Verifier(jwt.secret, jwt)
  const keyVerifier = keys && loadOnce(() => import('./keys.ts').then(({ createKeyVerifier }) => createKeyVerifier(keys, { now, log })))

  return async function verifyAppToken(token) {
    if (token.length > maxTokenLength) throw invalidToken('token too long')
    if (!COMPACT_JWS.test(token)) throw invalidToken('not a compact jws')
    let header: ProtectedHeaderParameters
    try {
      header = decodeProtectedHeader(token)
    } catch (error) {
      throw invalidToken('malformed header', error)
    }
    if (KEY_LOCATING_HEADERS.some((name) => name in header)) throw invalidToken('key-locating header')
    const alg = header.alg
    // The app's own login tokens are small; the larger cap is for providers' tokens with many claims.
    if (alg === 'HS256' && token.length > MAX_SELF_SIGNED_LENGTH) throw invalidToken('token too long')
    const common: JWTVerifyOptions = {
      requiredClaims: ['exp'],
      clockTolerance: clockToleranceSec,
      currentDate: new Date(now()),
      ...(jwt.maxAgeSec !== undefined && { maxTokenAge: jwt.maxAgeSec }),
    }
    let payload: JWTPayload
    let issuer: string
    let claims = jwt.claims
    try {
      if (alg === 'HS256' && secretVerifier) {
        // Bound to its own issuer: without JWT_ISSUER (self-signed only), a token naming any issuer is refused.
        issuer = jwt.issuer ?? ''
        claims = jwt.secretClaims ?? jwt.claims
        payload = await secretVerifier(token, header, common)
      } else if (keys && keyVerifier && typeof alg === 'string' && keys.algorithms.includes(alg)) {
        issuer = keys.issuer
        payload = await (await keyVerifier())(token, header, common)
      } else {
        throw invalidToken(`algorithm not allowed: ${String(alg).slice(0, 16)}`)
      }
    } catch (error) {
      if (error instanceof errors.JOSEError) throw invalidToken(error.code, error, error instanceof errors.JWTExpired)
      throw error
    }
    const nowSec = Math.floor(now() / 1000)
    // jose lets `1e400` (Infinity) through as a number and does not look at a future `iat`.
    if (!Number.isFinite(payload.exp)) throw invalidToken('invalid exp')
    if (payload.iat !== undefined && !(Number.isFinite(payload.iat) && payload.iat <= nowSec + clockToleranceSec)) throw invalidToken('iat in the future')
    // One rule for every route: the clock tolerance forgives a skewed `iat`/`nbf`, never an expiry. A token whose
    // `exp` is now or past has no lifetime left (jose alone would accept it for `clockToleranceSec` more).
    if (Math.floor(payload.exp as number) <= nowSec) throw invalidToken(NO_LIFETIME_LEFT, undefined, true)
    let caller: Caller
    try {
      caller = toCaller(payload, claims, issuer)
    } catch (error) {
      if (error instanceof ClaimError) throw invalidToken(error.message, error)
      throw error
    }
    // The secret signs only the app's own ids (letters, digits, `_`, `-`, as before providers): never a provider-style
    // id such as `auth0|…`, `google-oauth2|…` or an e-mail address, so beside a provider a leaked JWT_SECRET cannot
    // take those users' channels.
    if (alg === 'HS256' && !PLAIN_ID.test(caller.userId)) throw invalidToken(keys ? 'provider-style id on a self-signed token' : 'invalid userId')
    return caller
  }
}

/** The HS256 verifier for the app's own login tokens; the HMAC key is imported once, on first use. */
function hs256Verifier(secret: string, { issuer, audience }: Pick<JwtConfig, 'issuer' | 'audience'>): PayloadVerifier {
  const importKey = lazyHmacKey(secret, 'verify')
  return async (token, _header, options) =>
    (
      await jwtVerify(token, importKey, {
        ...options,
        algorithms: ['HS256'],
        ...(issuer !== undefined && { issuer }),
        ...(audience !== undefined && { audience }),
      })
    ).payload
}

/** The token from an `Authorization: Bearer …` header, or an `invalid_token` error. Nothing else is read. */
export function bearerToken(header: string | undefined, maxTokenLength = 8192): string {
  if (header === undefined) throw invalidToken('no authorization header')
  if (header.length > maxTokenLength + 16) throw invalidToken('authorization header too long')
  const match = BEARER.exec(header)
  if (!match?.[1]) throw invalidToken('not a bearer jwt')
  return match[1]
}

/** The one 401 every verification failure gets: one body; expired or not in `WWW-Authenticate`; the reason in the log. */
export function invalidToken(reason: string, cause?: unknown, expired = false): AppError {
  return new AppError('invalid_token', { reason, cause, headers: { 'WWW-Authenticate': wwwAuthenticate(expired) } })
}
