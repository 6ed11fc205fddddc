/**
 * The app-JWT part of the configuration: which verifiers run (the HS256 secret, the provider's keys, or both), the
 * issuer and audience rules each is bound to, the claim mapping, and the provider presets that fill in defaults.
 */
import type { ClaimMapping, Pointer } from '../auth/claims.ts'
import { formatPointer, isUserEditable, parsePointer } from '../auth/pointer.ts'
import { addProblem, envValue, parseInteger, type ConfigProblems, type Env } from './index.ts'
import { MAX_APP_JWT_LENGTH, readJwtCommon, SELF_SIGNED_CLAIMS, type JwtReader } from './jwt-secret.ts'

export { MAX_APP_JWT_LENGTH } from './jwt-secret.ts'

export const PROVIDERS = ['auth0', 'clerk', 'supabase', 'firebase', 'cognito'] as const
export type Provider = (typeof PROVIDERS)[number]

/** Asymmetric algorithms a key may verify (`JWT_ALGORITHMS` narrows them). HS256 belongs to the secret alone. */
export const KEY_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const
const DEFAULT_KEY_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519']

/** The provider's keys: where they are, and what every token they sign must also say. */
export interface KeysConfig {
  /** `JWT_JWKS_URL` (or the preset's), fetched lazily and cached per isolate. */
  readonly jwksUrl?: string
  /** `JWT_PUBLIC_KEY`: a PEM SPKI public key, a JWK or a JWKS, inline. */
  readonly publicKey?: string
  /** `JWT_ISSUER`: required with keys. */
  readonly issuer: string
  /** `JWT_AUDIENCE`: `aud` must hold one of these. */
  readonly audiences: readonly string[]
  /** `JWT_AUTHORIZED_PARTIES`: `azp` must be one of these. */
  readonly authorizedParties: readonly string[]
  /** `JWT_REQUIRED_CLAIMS`: top-level claims that must have exactly these string values (e.g. Cognito `token_use`). */
  readonly requiredClaims: Readonly<Record<string, string>>
  /** `JWT_ALGORITHMS`, minus HS256 (the secret's). */
  readonly algorithms: readonly string[]
  /** `JWT_TYP`: the `typ` header the provider sets, checked when set (RFC 8725 §3.11). */
  readonly typ?: string
  /** Seconds a fetched JWKS is fresh; after it, refreshed, and the last good one served while the refresh fails. */
  readonly cacheMaxAgeSec: number
  /** Seconds between two fetches triggered by an unknown `kid`. */
  readonly cooldownSec: number
  /** The longest one JWKS fetch may take, in ms (inside the request deadline). */
  readonly fetchTimeoutMs: number
}

export interface JwtConfig {
  /** The app's HS256 secret for the JWTs its own login issues (`JWT_SECRET`), when that mode is on. */
  readonly secret?: string
  /** The issuer the secret's tokens must carry (`JWT_ISSUER` alone, or `JWT_SECRET_ISSUER` beside keys). */
  readonly issuer?: string
  readonly audience?: string
  /** Reject app JWTs older than this many seconds (by `iat`), when set. */
  readonly maxAgeSec?: number
  readonly clockToleranceSec: number
  /** The provider's keys, when that mode is on. */
  readonly keys?: KeysConfig
  readonly provider?: Provider
  /** Where the caller is in a verified token: the provider's tokens when keys are on, else the secret's. */
  readonly claims: ClaimMapping
  /** Beside keys, the secret's own tokens keep the self-signed mapping (`userId`/`sub`, `role`, `sid`). */
  readonly secretClaims?: ClaimMapping
  /** Longest app JWT accepted, in characters. */
  readonly maxTokenLength: number
  /** `JWT_COOKIE`: the token route reads the app JWT from this cookie when there is no Authorization header. */
  readonly cookie?: string
}

interface Preset {
  user: string
  role?: string
  session?: string
  membership?: string
  /** The JWKS URL, from the issuer. */
  jwks: (issuer: string) => string
  /** Audience defaults and how `JWT_AUDIENCE` is read. */
  audience?: { default?: string; asClaim?: string }
  requiredClaims?: Record<string, string>
  algorithms?: string[]
  typ?: string
}

const wellKnown = (issuer: string) => `${issuer.replace(/\/+$/, '')}/.well-known/jwks.json`

/** What `JWT_PROVIDER` sets; every one of them may still be overridden by its own variable. */
export const PRESETS: Record<Provider, Preset> = {
  // Auth0: roles arrive only through an Action, in a namespaced claim the app chooses (JWT_ROLE_CLAIM).
  auth0: { user: '/sub', session: '/sid', membership: '/org_id', jwks: wellKnown, algorithms: ['RS256', 'PS256'] },
  // Clerk session tokens: no `aud`, `azp` is the origin that asked (JWT_AUTHORIZED_PARTIES), `org_role` like `org:admin`.
  clerk: { user: '/sub', role: '/org_role', session: '/sid', membership: '/org_id', jwks: wellKnown, algorithms: ['RS256'] },
  // Supabase: the top-level `role` is the Postgres role (`authenticated`), never an app role; `user_metadata` is the user's.
  supabase: {
    user: '/sub',
    role: '/app_metadata/role',
    session: '/session_id',
    jwks: wellKnown,
    audience: { default: 'authenticated' },
    algorithms: ['ES256', 'RS256', 'EdDSA', 'Ed25519'],
  },
  // Firebase: keys shared by every project, so `aud` (the project id) and `iss` keep other projects out.
  firebase: {
    user: '/sub',
    role: '/role',
    jwks: () => 'https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com',
    algorithms: ['RS256'],
  },
  // Cognito access tokens: no `aud`; `client_id` is the app client and `token_use` must be `access`.
  cognito: {
    user: '/sub',
    role: '/cognito:groups',
    session: '/origin_jti',
    jwks: wellKnown,
    audience: { asClaim: 'client_id' },
    requiredClaims: { token_use: 'access' },
    algorithms: ['RS256'],
  },
}

const CLAIM_VALUE = /^[^\s,=]{1,256}$/
const IS_LOOPBACK = (host: string) => host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host)

/**
 * Reads every JWT setting (the secret, the provider's keys, presets, claim mapping); returns `undefined` only after
 * adding a problem. Serverless doors load this module only when a provider variable is set (`./load.ts`).
 */
export const readJwt: JwtReader = (env, problems, parseSecret) => {
  const value = (name: string) => envValue(env, name)
  const before = problems.length

  const providerName = value('JWT_PROVIDER')
  let provider: Provider | undefined
  if (providerName !== undefined) {
    if ((PROVIDERS as readonly string[]).includes(providerName)) provider = providerName as Provider
    else addProblem(problems, 'JWT_PROVIDER', `must be one of ${PROVIDERS.join(', ')}; got "${providerName.slice(0, 30)}".`)
  }
  const preset = provider && PRESETS[provider]

  const issuer = value('JWT_ISSUER')
  const rawJwks = value('JWT_JWKS_URL') ?? (preset && issuer ? preset.jwks(issuer) : undefined)
  const publicKey = value('JWT_PUBLIC_KEY')
  const keysOn = rawJwks !== undefined || publicKey !== undefined || provider !== undefined
  const secretOn = env.JWT_SECRET !== undefined && env.JWT_SECRET !== ''
  const secret = secretOn || !keysOn ? parseSecret(env.JWT_SECRET, problems) : undefined

  const { maxAgeSec, cookie } = readJwtCommon(env, problems)

  const claims = readClaims(env, problems, preset, keysOn)

  let keys: KeysConfig | undefined
  if (keysOn) keys = readKeys(env, problems, { preset, issuer, rawJwks, publicKey })

  const secretIssuer = keysOn ? value('JWT_SECRET_ISSUER') : issuer
  if (keysOn && secretOn && (secretIssuer === undefined || secretIssuer === issuer)) {
    addProblem(
      problems,
      'JWT_SECRET_ISSUER',
      "must be set, and differ from JWT_ISSUER, when JWT_SECRET and the provider's keys are both on: each verifier is bound to its own issuer, so the holder of JWT_SECRET cannot sign tokens in the provider's name. Set it to the `iss` your own login puts in its tokens.",
    )
  }

  if (problems.length > before) return undefined
  return {
    ...(secret !== undefined && { secret }),
    ...(secretIssuer !== undefined && secret !== undefined && { issuer: secretIssuer }),
    ...(!keysOn && value('JWT_AUDIENCE') !== undefined && { audience: value('JWT_AUDIENCE') }),
    ...(maxAgeSec !== undefined && { maxAgeSec }),
    clockToleranceSec: 5,
    ...(keys && { keys }),
    ...(provider && { provider }),
    claims,
    ...(keysOn && secret !== undefined && { secretClaims: SELF_SIGNED_CLAIMS }),
    maxTokenLength: MAX_APP_JWT_LENGTH,
    ...(cookie !== undefined && { cookie }),
  }
}

function readKeys(
  env: Env,
  problems: ConfigProblems,
  {
    preset,
    issuer,
    rawJwks,
    publicKey,
  }: { preset: Preset | undefined; issuer: string | undefined; rawJwks: string | undefined; publicKey: string | undefined },
): KeysConfig | undefined {
  const value = (name: string) => envValue(env, name)
  if (issuer === undefined) {
    addProblem(
      problems,
      'JWT_ISSUER',
      "is required with JWT_JWKS_URL, JWT_PUBLIC_KEY or JWT_PROVIDER: set it to the provider's `iss` exactly (e.g. https://your-tenant.auth0.com/).",
    )
    return undefined
  }
  if (rawJwks !== undefined && publicKey !== undefined) {
    addProblem(problems, 'JWT_PUBLIC_KEY', 'and JWT_JWKS_URL are both set: choose one (inline keys make no network call).')
  }
  const jwksUrl = rawJwks === undefined || publicKey !== undefined ? undefined : checkJwksUrl(rawJwks, problems)
  if (publicKey !== undefined) checkPublicKey(publicKey, problems)

  const list = (name: string) =>
    (value(name) ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '')
  const rawAudiences = list('JWT_AUDIENCE')
  const asClaim = preset?.audience?.asClaim
  const audiences = asClaim ? [] : rawAudiences.length > 0 ? rawAudiences : preset?.audience?.default ? [preset.audience.default] : []
  const authorizedParties = list('JWT_AUTHORIZED_PARTIES')
  const requiredClaims: Record<string, string> = { ...preset?.requiredClaims }
  if (asClaim && rawAudiences.length === 1) requiredClaims[asClaim] = rawAudiences[0] as string
  else if (asClaim && rawAudiences.length > 1)
    addProblem(problems, 'JWT_AUDIENCE', `takes one app client id with JWT_PROVIDER=cognito (checked as \`${asClaim}\`).`)
  for (const pair of list('JWT_REQUIRED_CLAIMS')) {
    const [name, claim, ...rest] = pair.split('=')
    if (!name || claim === undefined || rest.length > 0 || !CLAIM_VALUE.test(name) || !CLAIM_VALUE.test(claim)) {
      addProblem(problems, 'JWT_REQUIRED_CLAIMS', `has "${pair.slice(0, 60)}"; use comma-separated name=value pairs, e.g. "token_use=access,client_id=abc123".`)
    } else {
      requiredClaims[name] = claim
    }
  }
  if (audiences.length === 0 && authorizedParties.length === 0 && Object.keys(requiredClaims).filter((name) => name !== 'token_use').length === 0) {
    addProblem(
      problems,
      'JWT_AUDIENCE',
      "is needed with the provider's keys: set JWT_AUDIENCE (the API identifier or project id), JWT_AUTHORIZED_PARTIES (the origins allowed in `azp`, for Clerk), or JWT_REQUIRED_CLAIMS (e.g. client_id=… for Cognito). Without one, tokens the same provider issued for other apps would pass.",
    )
  }

  const algorithms = list('JWT_ALGORITHMS')
  const allowed = algorithms.length > 0 ? algorithms : (preset?.algorithms ?? DEFAULT_KEY_ALGORITHMS)
  for (const alg of allowed) {
    if (alg === 'HS256') continue
    if (!(KEY_ALGORITHMS as readonly string[]).includes(alg)) {
      addProblem(
        problems,
        'JWT_ALGORITHMS',
        `has "${alg.slice(0, 20)}"; allowed: HS256 (with JWT_SECRET), ${KEY_ALGORITHMS.join(', ')}. "none" and HS384/HS512 are never accepted.`,
      )
    }
  }
  const typ = value('JWT_TYP') ?? preset?.typ
  const number = (name: string, fallback: number, min: number, max: number, unit?: string) =>
    parseInteger(name, value(name), fallback, min, max, problems, unit ? { unit } : {})
  return {
    ...(jwksUrl !== undefined && { jwksUrl }),
    ...(publicKey !== undefined && { publicKey }),
    issuer,
    audiences,
    authorizedParties,
    requiredClaims,
    algorithms: allowed.filter((alg) => alg !== 'HS256'),
    ...(typ !== undefined && { typ }),
    cacheMaxAgeSec: number('JWT_JWKS_CACHE_MAX_AGE', 600, 30, 86_400),
    cooldownSec: number('JWT_JWKS_COOLDOWN', 30, 1, 600),
    fetchTimeoutMs: number('JWT_JWKS_TIMEOUT_MS', 3000, 100, 6000, 'milliseconds'),
  }
}

/** A PEM SPKI public key, or a JWK/JWKS holding at least one public signature key and no private or symmetric key. */
function checkPublicKey(text: string, problems: ConfigProblems): void {
  const fix = 'Use the provider\'s PEM public key ("-----BEGIN PUBLIC KEY-----"), a public JWK, or its JWKS (JSON).'
  if (text.startsWith('-----BEGIN')) {
    const pem = /^-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]|\\n)+-----END PUBLIC KEY-----$/.test(text.trim())
    if (!pem) addProblem(problems, 'JWT_PUBLIC_KEY', `is not a PEM public key (a private key or a certificate is refused). ${fix}`)
    return
  }
  let keys: unknown[] | undefined
  try {
    const value: unknown = JSON.parse(text)
    if (typeof value === 'object' && value !== null) keys = Array.isArray((value as { keys?: unknown }).keys) ? (value as { keys: unknown[] }).keys : [value]
  } catch {
    keys = undefined
  }
  const isKey = (key: unknown): key is Record<string, unknown> => typeof key === 'object' && key !== null && typeof (key as { kty?: unknown }).kty === 'string'
  const problem = !keys?.every(isKey)
    ? 'is neither a PEM key nor a JWK or JWKS.'
    : keys.some((key) => 'd' in key || key.kty === 'oct')
      ? 'holds a private or symmetric key: give only the public key (no "d", no "oct").'
      : !keys.some((key) => key.use !== 'enc')
        ? 'holds no signature key (only "use": "enc").'
        : undefined
  if (problem) addProblem(problems, 'JWT_PUBLIC_KEY', `${problem} ${fix}`)
}

function checkJwksUrl(raw: string, problems: ConfigProblems): string | undefined {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    addProblem(problems, 'JWT_JWKS_URL', "is not a URL; use the https URL of the provider's JWKS, e.g. https://your-tenant.auth0.com/.well-known/jwks.json.")
    return undefined
  }
  const ok = url.protocol === 'https:' || (url.protocol === 'http:' && IS_LOOPBACK(url.hostname))
  if (!ok || url.username || url.password || url.hash) {
    addProblem(problems, 'JWT_JWKS_URL', 'must be an https URL with no credentials (plain http only for localhost or 127.0.0.1).')
    return undefined
  }
  return url.href
}

function readClaims(env: Env, problems: ConfigProblems, preset: Preset | undefined, keysOn: boolean): ClaimMapping {
  const pointer = (name: string, fallback: string | undefined, { guarded = false } = {}): Pointer | undefined => {
    const raw = envValue(env, name) ?? fallback
    if (raw === undefined) return undefined
    const parsed = parsePointer(raw)
    if (!parsed || parsed.length === 0) {
      addProblem(
        problems,
        name,
        `must be a JSON Pointer (RFC 6901) such as "/sub", "/app_metadata/role" or "/https:~1~1example.com~1roles" ("~1" is "/", "~0" is "~"); got "${raw.slice(0, 60)}".`,
      )
      return undefined
    }
    if (guarded && isUserEditable(parsed)) {
      addProblem(
        problems,
        name,
        `points into ${formatPointer(parsed.slice(0, 1))}, which the user can edit: it must never grant a role or a membership. Use app_metadata or a claim your backend sets.`,
      )
      return undefined
    }
    return parsed
  }
  const user = pointer('JWT_USER_CLAIM', undefined)
  const role = pointer('JWT_ROLE_CLAIM', preset ? preset.role : keysOn ? undefined : '/role', { guarded: true })
  const session = pointer('JWT_SESSION_CLAIM', preset ? preset.session : '/sid')
  const membership = pointer('JWT_MEMBERSHIP_CLAIM', preset?.membership, { guarded: true })
  return {
    user: user ? [user] : preset ? [parsePointer(preset.user) as Pointer] : [['userId'], ['sub']],
    ...(role && { role }),
    ...(session && { session }),
    ...(membership && { membership }),
    ...(!preset && !keysOn && envValue(env, 'JWT_ROLE_CLAIM') === undefined && { singleRole: true }),
  }
}
