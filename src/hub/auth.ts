/**
 * Credentials: API keys (Basic), Ably JWTs (HS256, `kid` = key name) and hub-issued tokens from signed
 * TokenRequests. The only module that imports jose; its errors become Ably codes here.
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto'
import { SignJWT, decodeProtectedHeader, jwtVerify } from 'jose'
import { ALL, canonicalCapability, intersectCapabilities, isEmptyCapability, parseCapability, type Capability } from './capability.ts'
import { HubError } from './errors.ts'
import { createRevocationRegistry, MAX_REVOCABLE_TTL_MS, TOKEN_REVOKED, type RevocationRegistry, type RevocationResult } from './revocation.ts'

/** An API key the hub accepts. */
export interface HubKey {
  /** `appId.keyId` */
  name: string
  secret: string
  /** Defaults to `{"*":["*"]}`. */
  capability?: Capability
  /**
   * Revocable tokens enabled (the dashboard's "Revocable tokens"): its tokens may be revoked with `revokeTokens`,
   * and live at most an hour.
   */
  revocableTokens?: boolean
}

/** What a verified credential allows. `clientId` is the token's (concrete or `*`); keys carry none. */
export interface Credential {
  kind: 'key' | 'token'
  keyName: string
  capability: Capability
  clientId?: string
  /** Milliseconds since the epoch; tokens only. */
  expiresAt?: number
  /** When the token was issued (its `iat`, whole seconds), in ms since the epoch; tokens only. */
  issuedAt?: number
  /** A JWT's `x-ably-revocation-key`, which `revocationKey:` targets match. */
  revocationKey?: string
}

/** Who a connection or request acts as, once its credential and any requested clientId are combined. */
export interface Identity {
  clientId?: string
  /** Whether messages may name any clientId (an unidentified key, or a wildcard token). */
  mayAssumeClientId: boolean
  /** A wildcard token with no concrete clientId chosen. */
  wildcard: boolean
}

/** A token as `POST /keys/:keyName/requestToken` returns it. */
interface TokenDetails {
  token: string
  keyName: string
  issued: number
  expires: number
  capability: string
  clientId?: string
}

export interface Authority {
  /** Verifies `appId.keyId:secret`. */
  authenticateKey(key: string): Credential
  /** Verifies an Ably JWT or a hub-issued token. */
  authenticateToken(token: string): Promise<Credential>
  /** Verifies an HTTP `Authorization` header (Basic key, or Bearer with a base64 or raw token). */
  authenticateHeader(authorization: string | null): Promise<Credential>
  /** Exchanges a TokenRequest (signed, or unsigned with `caller` being the same key) for a token. */
  requestToken(keyName: string, request: unknown, caller?: Credential): Promise<TokenDetails>
  /** Revokes tokens of `keyName` as `POST /keys/:keyName/revokeTokens` does; `caller` must be that key. */
  revokeTokens(keyName: string, body: unknown, caller: Credential): RevocationResult[]
  /** Whether a credential verified earlier has been revoked since (live connections are checked with it). */
  isRevoked(credential: Credential): boolean
  /** Whether a revocation not yet in force (`allowReauthMargin`) will cover the credential. */
  isRevocationPending(credential: Credential): boolean
}

export interface AuthorityOptions {
  keys: readonly HubKey[]
  now?: () => number
  /** TokenRequest timestamps must be this close to `now`; nonces are remembered this long. */
  tokenRequestWindowMs?: number
  /** Where revocations are recorded (an empty one of its own by default); tokens it covers are refused with 40141. */
  revocations?: RevocationRegistry
}

interface KeyEntry {
  name: string
  secret: string
  secretDigest: Buffer
  signingKey: Promise<CryptoKey>
  capability: Capability
  revocable: boolean
}

const KEY_NAME = /^[^:\s.]+\.[^:\s.]+$/
const KEY_SECRET = /^[^:.\s]+$/
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/
const MAX_TOKEN_LENGTH = 8192
const MAX_TTL_MS = 86_400_000
const DEFAULT_TTL_MS = 3_600_000
const MIN_NONCE_LENGTH = 16
const MAX_NONCES = 100_000
// Hub-issued tokens carry their expiry in ms, so a 1 ms TTL is not rounded up to a whole second.
const EXPIRES_MS_CLAIM = 'x-ably-hub-expires-ms'
// And their issue time in ms, as Ably's own tokens have it (`issued`): revocation's `issuedBefore` and the revocable
// key's one-hour cap compare against it, so a token issued just after a revoke, in the same second, is not revoked.
const ISSUED_MS_CLAIM = 'x-ably-hub-issued-ms'
// A token the hub issues for a capability too large to carry (Ably's own tokens are opaque: the capability stays
// server-side) names it instead: the capability is kept here until the token expires.
const CAPABILITY_REF_CLAIM = 'x-ably-hub-capability-ref'
const MAX_CAPABILITY_REFS = 10_000

const digest = (text: string) => createHash('sha256').update(text).digest()

function sameSecret(expected: Buffer, candidate: string): boolean {
  return timingSafeEqual(expected, digest(candidate))
}

/** Builds the verifier for a fixed set of keys. Misconfigured keys are a TypeError, at once. */
export function createAuthority({
  keys,
  now = Date.now,
  tokenRequestWindowMs = 120_000,
  revocations = createRevocationRegistry({ now }),
}: AuthorityOptions): Authority {
  if (keys.length === 0) throw new TypeError('createHub: at least one key is required')
  const entries = new Map<string, KeyEntry>()
  for (const key of keys) {
    if (!KEY_NAME.test(key.name)) throw new TypeError(`createHub: key name "${key.name}" must look like appId.keyId`)
    if (!KEY_SECRET.test(key.secret)) throw new TypeError(`createHub: the secret of ${key.name} must not contain ":" "." or spaces`)
    entries.set(key.name, {
      name: key.name,
      secret: key.secret,
      secretDigest: digest(key.secret),
      signingKey: crypto.subtle.importKey('raw', new TextEncoder().encode(key.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']),
      capability: key.capability ? parseCapability(key.capability) : ALL,
      revocable: key.revocableTokens === true,
    })
  }
  const nonces = new Map<string, number>()

  const keyEntry = (name: unknown): KeyEntry => {
    const entry = typeof name === 'string' ? entries.get(name) : undefined
    if (!entry) throw new HubError(40400, 'No such key', 404)
    return entry
  }

  const authenticateKey = (key: string): Credential => {
    const separator = key.indexOf(':')
    if (separator < 1 || !KEY_SECRET.test(key.slice(separator + 1))) {
      throw new HubError(40005, 'Invalid key format', 400)
    }
    const entry = keyEntry(key.slice(0, separator))
    if (!sameSecret(entry.secretDigest, key.slice(separator + 1))) {
      throw new HubError(40101, 'Invalid credentials', 401)
    }
    return { kind: 'key', keyName: entry.name, capability: entry.capability }
  }

  /** Capabilities of issued tokens too large to carry them, by reference, with their expiry. */
  const capabilityRefs = new Map<string, { capability: string; expiresAt: number }>()
  const keepCapability = (capability: string, expiresAt: number): string => {
    const time = now()
    for (const [ref, kept] of capabilityRefs) if (kept.expiresAt <= time || capabilityRefs.size >= MAX_CAPABILITY_REFS) capabilityRefs.delete(ref)
    const ref = randomUUID()
    capabilityRefs.set(ref, { capability, expiresAt })
    return ref
  }

  const authenticateToken = async (token: string): Promise<Credential> => {
    if (token.length > MAX_TOKEN_LENGTH || !JWT_SHAPE.test(token)) throw new HubError(40005, 'Invalid token', 400)
    let kid: unknown
    try {
      kid = decodeProtectedHeader(token).kid
    } catch (error) {
      throw new HubError(40144, 'Invalid JWT format', 401, { cause: error })
    }
    const entry = keyEntry(kid)
    const currentTime = now()
    let payload: Record<string, unknown>
    try {
      ;({ payload } = await jwtVerify(token, await entry.signingKey, {
        algorithms: ['HS256'],
        currentDate: new Date(currentTime),
        requiredClaims: ['iat', 'exp'],
      }))
    } catch (error) {
      const expired = (error as { code?: unknown }).code === 'ERR_JWT_EXPIRED'
      if (expired) throw new HubError(40142, 'Token expired', 401, { cause: error })
      throw new HubError(40144, 'Invalid JWT', 401, { cause: error })
    }
    const expiresMs = payload[EXPIRES_MS_CLAIM]
    const expiresAt = typeof expiresMs === 'number' ? expiresMs : Number(payload.exp) * 1000
    if (expiresAt <= currentTime) throw new HubError(40142, 'Token expired', 401)
    const clientId = payload['x-ably-clientId']
    const ref = payload[CAPABILITY_REF_CLAIM]
    if (ref !== undefined && (typeof ref !== 'string' || !capabilityRefs.has(ref))) throw new HubError(40144, 'Invalid JWT claims', 401)
    const capabilityClaim = typeof ref === 'string' ? capabilityRefs.get(ref)?.capability : payload['x-ably-capability']
    const revocationKey = payload[REVOCATION_KEY_CLAIM]
    if (
      (clientId !== undefined && (typeof clientId !== 'string' || clientId === '')) ||
      (capabilityClaim !== undefined && typeof capabilityClaim !== 'string') ||
      (revocationKey !== undefined && (typeof revocationKey !== 'string' || revocationKey === ''))
    ) {
      throw new HubError(40144, 'Invalid JWT claims', 401)
    }
    const issuedMs = payload[ISSUED_MS_CLAIM]
    const issuedAt = typeof issuedMs === 'number' ? issuedMs : Number(payload.iat) * 1000
    if (entry.revocable && expiresAt - issuedAt > MAX_REVOCABLE_TTL_MS) throw excessiveRevocableTtl()
    let capability = entry.capability
    if (capabilityClaim !== undefined) {
      try {
        capability = intersectCapabilities(parseCapability(capabilityClaim), entry.capability)
      } catch (error) {
        throw new HubError(40144, 'Invalid capability in JWT', 401, { cause: error })
      }
    }
    const credential: Credential = { kind: 'token', keyName: entry.name, capability, clientId, expiresAt, issuedAt, revocationKey }
    if (revocations.isRevoked(credential)) throw new HubError(TOKEN_REVOKED, 'Token revoked', 401)
    return credential
  }

  const authenticateHeader = async (authorization: string | null): Promise<Credential> => {
    const match = /^(basic|bearer)\s+(\S+)\s*$/i.exec(authorization ?? '')
    if (!match) throw new HubError(40101, 'No valid authentication provided', 401)
    const [, scheme = '', value = ''] = match
    const decoded = Buffer.from(value, 'base64').toString('utf8')
    if (scheme.toLowerCase() === 'basic') return authenticateKey(decoded)
    // ably-js sends base64(token); curl users send the raw token.
    return authenticateToken(JWT_SHAPE.test(decoded) ? decoded : value)
  }

  const rememberNonce = (keyName: string, nonce: string, at: number) => {
    for (const [seen, time] of nonces) {
      if (at - time <= tokenRequestWindowMs && nonces.size < MAX_NONCES) break
      nonces.delete(seen)
    }
    const id = `${keyName}\n${nonce}`
    if (nonces.has(id)) throw new HubError(40105, 'Nonce value replayed', 401)
    nonces.set(id, at)
  }

  const requestToken = async (keyName: string, request: unknown, caller?: Credential): Promise<TokenDetails> => {
    const entry = keyEntry(keyName)
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      throw new HubError(40000, 'Token request must be an object', 400)
    }
    const fields = request as Record<string, unknown>
    if (fields.keyName !== undefined && fields.keyName !== keyName) {
      throw new HubError(40101, 'Token request key name does not match', 401)
    }
    const text = (field: string): string => {
      const value = fields[field]
      if (value === undefined || value === null) return ''
      if (typeof value === 'string') return value
      if (typeof value === 'number' && Number.isFinite(value)) return String(value)
      if (field === 'capability' && typeof value === 'object') return canonicalCapability(parseCapability(value))
      throw new HubError(40000, `Token request field "${field}" has the wrong type`, 400)
    }
    const [ttlText, capabilityText, clientId, timestampText, nonce, mac] = ['ttl', 'capability', 'clientId', 'timestamp', 'nonce', 'mac'].map(text) as [
      string,
      string,
      string,
      string,
      string,
      string,
    ]
    const currentTime = now()

    if (mac) {
      const signed = `${keyName}\n${ttlText}\n${capabilityText}\n${clientId}\n${timestampText}\n${nonce}\n`
      const expected = createHmac('sha256', entry.secret).update(signed).digest('base64')
      if (!sameSecret(digest(expected), mac)) throw new HubError(40101, 'Invalid token request signature', 401)
      const timestamp = Number(timestampText)
      if (!timestampText || !Number.isFinite(timestamp) || Math.abs(currentTime - timestamp) > tokenRequestWindowMs) {
        throw new HubError(40104, 'Timestamp not current', 401)
      }
      if (nonce.length < MIN_NONCE_LENGTH) throw new HubError(40000, 'Nonce must be at least 16 characters', 400)
      rememberNonce(keyName, nonce, currentTime)
    } else if (caller?.kind !== 'key' || caller.keyName !== keyName) {
      throw new HubError(40101, 'Unsigned token requests need Basic auth with the same key', 401)
    }

    const ttl = ttlText === '' ? DEFAULT_TTL_MS : Number(ttlText)
    if (!Number.isInteger(ttl) || ttl <= 0 || ttl > MAX_TTL_MS) throw new HubError(40003, 'Invalid ttl', 400)
    if (entry.revocable && ttl > MAX_REVOCABLE_TTL_MS) throw excessiveRevocableTtl()
    const capability = capabilityText ? intersectCapabilities(parseCapability(capabilityText), entry.capability) : entry.capability
    if (isEmptyCapability(capability)) {
      throw new HubError(40160, 'Requested capability is not permitted by the key', 401)
    }
    const expires = currentTime + ttl
    const grantedText = canonicalCapability(capability)
    const claims: Record<string, unknown> = {
      // Past 4 KB (about 8 KB once escaped and encoded) the token would not fit where tokens travel: it names the capability instead.
      ...(grantedText.length > MAX_TOKEN_LENGTH / 2
        ? { [CAPABILITY_REF_CLAIM]: keepCapability(grantedText, currentTime + ttl) }
        : { 'x-ably-capability': grantedText }),
      [EXPIRES_MS_CLAIM]: expires,
      [ISSUED_MS_CLAIM]: currentTime,
    }
    if (clientId) claims['x-ably-clientId'] = clientId
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: keyName, typ: 'JWT' })
      .setIssuedAt(Math.floor(currentTime / 1000))
      .setExpirationTime(Math.ceil(expires / 1000))
      .sign(await entry.signingKey)
    return {
      token,
      keyName,
      issued: currentTime,
      expires,
      capability: canonicalCapability(capability),
      clientId: clientId || undefined,
    }
  }

  const revokeTokens = (keyName: string, body: unknown, caller: Credential): RevocationResult[] => {
    const entry = keyEntry(keyName)
    return revocations.revoke(entry.name, body, caller, entry.revocable)
  }
  return {
    authenticateKey,
    authenticateToken,
    authenticateHeader,
    requestToken,
    revokeTokens,
    isRevoked: (credential) => revocations.isRevoked(credential),
    isRevocationPending: (credential) => revocations.isPending(credential),
  }
}

/** The JWT claim that `revocationKey:` targets match. */
const REVOCATION_KEY_CLAIM = 'x-ably-revocation-key'

const excessiveRevocableTtl = () => new HubError(40003, 'Excessive value for TTL (revocation is enabled on this key)', 400)

/**
 * Combines a credential with the clientId a client asked for (query param or `X-Ably-ClientId`).
 * A token's concrete clientId wins and must not be contradicted (40102); `*` is never an identity.
 */
export function resolveIdentity(credential: Credential, requested?: string): Identity {
  if (requested === '*' || requested === '') throw new HubError(40012, 'Invalid clientId', 400)
  const granted = credential.clientId
  if (credential.kind === 'key' || granted === '*') {
    return { clientId: requested, mayAssumeClientId: requested === undefined, wildcard: granted === '*' && !requested }
  }
  if (requested !== undefined && requested !== granted) {
    throw new HubError(40102, 'Mismatched clientId for existing credentials', 401)
  }
  return { clientId: granted, mayAssumeClientId: false, wildcard: false }
}

/** The clientId a message or presence event is published with, or 40012 if the identity may not use it. */
export function effectiveClientId(identity: Identity, clientId: string | undefined): string | undefined {
  if (clientId === undefined || clientId === identity.clientId) return identity.clientId
  if (identity.mayAssumeClientId && clientId !== '*' && clientId !== '') return clientId
  throw new HubError(40012, 'Mismatched clientId', 400)
}
