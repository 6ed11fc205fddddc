/**
 * The provider's keys: a JWKS fetched from `JWT_JWKS_URL`, or a PEM key, JWK or JWKS given inline. Loaded only when
 * keys are configured (`app-token.ts` imports this module on first use), so the HS256-only entry does not carry it.
 *
 * The remote key set is fetched lazily, cached per isolate, refreshed when it is older than its max age or when a
 * token names an unknown `kid` (at most once per cool-down), and each fetch is bounded in time inside the request
 * deadline. jose's own remote key set has no "serve stale on error": here a failed refresh keeps the last good set,
 * so a provider outage or a rotation signs nobody out. A provider we cannot reach, or an unknown `kid` inside the
 * cool-down, is a retryable 503 `auth_keys_unavailable` with `Retry-After`, logged with the provider's host.
 */
import type { JSONWebKeySet, JWK, JWTPayload, JWTVerifyGetKey } from 'jose'
import * as errors from 'jose/errors'
import { createLocalJWKSet } from 'jose/jwks/local'
import { importSPKI } from 'jose/key/import'
import { jwtVerify } from 'jose/jwt/verify'
import type { KeysConfig } from '../config/jwt.ts'
import { AppError } from '../errors/index.ts'
import { describeError, type Logger } from '../log/index.ts'
import { invalidToken, type PayloadVerifier } from './app-token.ts'

/** How long a last good key set is served while every refresh fails (a provider outage of a day signs nobody out). */
const STALE_LIMIT_MS = 24 * 60 * 60 * 1000
/** The largest JWKS document accepted. */
const MAX_JWKS_BYTES = 256 * 1024

export interface KeyVerifierDeps {
  now: () => number
  log: Logger
  fetch?: typeof fetch
}

export function createKeyVerifier(keys: KeysConfig, deps: KeyVerifierDeps): PayloadVerifier {
  const getKey: JWTVerifyGetKey = keys.jwksUrl !== undefined ? remoteKeySet(keys.jwksUrl, keys, deps) : inlineKeys(keys.publicKey ?? '')
  return async (token, _header, options) => {
    const { payload } = await jwtVerify(token, getKey, {
      ...options,
      algorithms: [...keys.algorithms],
      issuer: keys.issuer,
      ...(keys.audiences.length > 0 && { audience: [...keys.audiences] }),
      ...(keys.typ !== undefined && { typ: keys.typ }),
    })
    checkProviderClaims(payload, keys)
    return payload
  }
}

/** Only signature keys of asymmetric types: `use: enc` keys and symmetric (`oct`) keys never verify a token. */
function signingKeys(set: JSONWebKeySet): JSONWebKeySet {
  return { keys: set.keys.filter((key: JWK) => key.kty !== 'oct' && key.use !== 'enc' && !('d' in key)) }
}

function asKeySet(value: unknown): JSONWebKeySet {
  if (typeof value !== 'object' || value === null) throw new TypeError('not a JWK or JWKS')
  if (Array.isArray((value as JSONWebKeySet).keys)) return value as JSONWebKeySet
  if (typeof (value as JWK).kty === 'string') return { keys: [value as JWK] }
  throw new TypeError('not a JWK or JWKS')
}

/** `JWT_PUBLIC_KEY`: a PEM key (imported per algorithm, so only for its own family) or a JWK/JWKS. No network call. */
function inlineKeys(text: string): JWTVerifyGetKey {
  if (text.startsWith('{')) {
    const set = signingKeys(asKeySet(JSON.parse(text)))
    if (set.keys.length === 0) throw new TypeError('JWT_PUBLIC_KEY holds no public signature key')
    return createLocalJWKSet(set)
  }
  const pem = text.replaceAll('\\n', '\n')
  const imported = new Map<string, ReturnType<typeof importSPKI>>()
  return (header) => {
    const alg = header.alg
    let key = imported.get(alg)
    if (!key) {
      // importSPKI refuses an algorithm of another family (an EC key for RS256): that token fails as invalid.
      key = importSPKI(pem, alg).catch((error: unknown) => {
        throw new errors.JWKSNoMatchingKey(`the public key does not fit ${alg}: ${error instanceof Error ? error.message : ''}`)
      })
      imported.set(alg, key)
    }
    return key
  }
}

interface Cached {
  readonly getKey: JWTVerifyGetKey
  readonly fetchedAt: number
  /** Every `kid` the set holds, usable or not: a token naming one of them is judged, never a reason to refetch. */
  readonly kids: ReadonlySet<string>
}

/** The cached, refreshed key set of `url`. */
function remoteKeySet(
  url: string,
  keys: Pick<KeysConfig, 'cacheMaxAgeSec' | 'cooldownSec' | 'fetchTimeoutMs'>,
  { now, log, fetch: fetchImpl = fetch }: KeyVerifierDeps,
): JWTVerifyGetKey {
  const host = new URL(url).host
  const cooldownMs = keys.cooldownSec * 1000
  const maxAgeMs = keys.cacheMaxAgeSec * 1000
  let cached: Cached | undefined
  let lastAttempt = Number.NEGATIVE_INFINITY
  let inflight: Promise<Cached> | undefined

  const retryAfter = () => String(Math.max(1, Math.ceil((lastAttempt + cooldownMs - now()) / 1000)))
  const unavailable = (reason: string, cause?: unknown) =>
    new AppError('auth_keys_unavailable', { reason: `${reason} (${host})`, cause, headers: { 'Retry-After': retryAfter() } })

  async function load(): Promise<Cached> {
    const response = await fetchImpl(url, { headers: { accept: 'application/json' }, redirect: 'follow', signal: AbortSignal.timeout(keys.fetchTimeoutMs) })
    if (!response.ok) throw new Error(`HTTP ${response.status}`)
    const text = await response.text()
    if (text.length > MAX_JWKS_BYTES) throw new Error('JWKS too large')
    const all = asKeySet(JSON.parse(text))
    const kids = new Set(all.keys.flatMap((key) => (typeof key.kid === 'string' ? [key.kid] : [])))
    return { getKey: createLocalJWKSet(signingKeys(all)), fetchedAt: now(), kids }
  }

  /** One fetch at a time; concurrent callers share it. Rejects when the fetch fails (after logging it). */
  function refresh(why: string): Promise<Cached> {
    if (!inflight) {
      lastAttempt = now()
      inflight = load()
        .then((fresh) => {
          cached = fresh
          log({ level: 'info', msg: 'jwks_fetched', host, why })
          return fresh
        })
        .catch((error: unknown) => {
          log({ level: 'warn', msg: 'jwks_fetch_failed', host, why, servingLastGood: cached !== undefined, error: describeError(error) })
          throw error
        })
        .finally(() => {
          inflight = undefined
        })
    }
    return inflight
  }

  const coolingDown = () => now() - lastAttempt < cooldownMs

  async function current(): Promise<Cached> {
    const usable = cached && now() - cached.fetchedAt <= STALE_LIMIT_MS ? cached : undefined
    if (!usable) {
      if (inflight === undefined && coolingDown()) throw unavailable('no keys; the last fetch failed')
      try {
        return await refresh('no keys')
      } catch (error) {
        throw unavailable('key set fetch failed', error)
      }
    }
    if (now() - usable.fetchedAt > maxAgeMs && !coolingDown()) {
      // Past its age: refresh, and serve the last good set if the refresh fails.
      return refresh('max age').catch(() => usable)
    }
    return usable
  }

  return async (header, token) => {
    const set = await current()
    try {
      return await set.getKey(header, token)
    } catch (error) {
      // A known kid with another algorithm or use, or no kid at all, is the token's fault (invalid_token).
      if (!(error instanceof errors.JWKSNoMatchingKey) || header.kid === undefined || set.kids.has(header.kid)) throw error
      // An unknown `kid`: a rotation we have not seen yet, or a forged token. Refetch at most once per cool-down.
      if (inflight) await inflight.catch(() => undefined)
      else if (coolingDown()) {
        if (cached !== set) return (cached as Cached).getKey(header, token)
        throw unavailable('unknown kid inside the cool-down', error)
      } else {
        try {
          await refresh('unknown kid')
        } catch (refreshError) {
          throw unavailable('unknown kid; key set fetch failed', refreshError)
        }
      }
      // After a fresh fetch, a kid still unknown is the token's fault (JWKSNoMatchingKey becomes invalid_token).
      return (cached as Cached).getKey(header, token)
    }
  }
}

/** What jose leaves to us for a provider's token: the authorised party and the required claim values. */
function checkProviderClaims(payload: JWTPayload, keys: KeysConfig): void {
  if (keys.authorizedParties.length > 0 && !(typeof payload.azp === 'string' && keys.authorizedParties.includes(payload.azp)))
    throw invalidToken('azp not allowed')
  for (const [name, value] of Object.entries(keys.requiredClaims)) {
    if (payload[name] !== value) throw invalidToken(`claim ${name.slice(0, 32)} mismatch`)
  }
}
