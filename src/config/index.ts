/**
 * Configuration: read once at the door from the runtime's environment, checked, and passed in typed. This module has
 * no provider code (keys, presets, claim pointers: `./jwt.ts`), so an edge bundle that imports it stays small;
 * `parseConfig` (`./parse.ts`) reads everything at once, `loadConfig` (`./load.ts`) loads the provider reader only
 * when a provider variable is set.
 */
import type { JwtConfig } from './jwt.ts'
import type { JwtReader } from './jwt-secret.ts'
import type { ConfigMessages } from './messages.ts'

export type { JwtConfig, KeysConfig, Provider } from './jwt.ts'

/** An Ably API key split into its parts. `name` (`appId.keyId`) is the JWT `kid`. */
export interface AblyKey {
  readonly appId: string
  readonly name: string
  readonly secret: string
}

export interface Config {
  readonly ably: {
    readonly key: AblyKey
    /** Base URL of Ably's REST API (the local hub in development). */
    readonly restUrl: string
  }
  /** How app JWTs are verified: the HS256 secret, the provider's keys, or both (see `src/config/jwt.ts`). */
  readonly jwt: JwtConfig
  /** Origins allowed to call the API from a browser; empty means same-origin only. */
  readonly corsOrigins: readonly string[]
  /** Lifetime of issued Ably tokens in seconds, never past the app JWT's own `exp`. */
  readonly tokenTtlSec: number
  /**
   * `ABLY_TOKEN_MIN_TTL`: the least lifetime of an issued Ably token even when the app JWT expires sooner (0, the
   * default: never past the app JWT's `exp`). For providers whose tokens live about 60 s (Clerk).
   */
  readonly tokenMinTtlSec: number
  /** App-JWT roles that may read or publish any user's channels. */
  readonly adminRoles: readonly string[]
  /** Ably token revocation (`ABLY_REVOCABLE_TOKENS=true`): see README, "Revocation". */
  readonly revocation: {
    readonly enabled: boolean
    /** How long a deny-list entry without a known end is kept: `JWT_MAX_AGE`, else 30 days (never below the token TTL). */
    readonly retentionSec: number
  }
  /**
   * Answer 504 once a request has run this long. Netlify allows 60 s for a synchronous function, but ably-js gives up
   * on an auth request after its 10 s `httpRequestTimeout`, so a slower answer would reach nobody.
   */
  readonly deadlineMs: number
}

/** One bad variable and how to fix it; `message` starts with the variable's name and never echoes a secret. */
export interface ConfigProblem {
  readonly variable: string
  readonly message: string
}

/**
 * A problem as a reader finds it: its message in full, or, on the edge's path, which message of `./messages.ts` and
 * with what values (the prose is loaded only when a variable is bad).
 */
type FoundProblem = ConfigProblem | { readonly variable: string; readonly say: Say }
type Say = { [K in keyof ConfigMessages]: [K, ...Parameters<ConfigMessages[K]>] }[keyof ConfigMessages]

/** Where the readers of one pass collect their problems, so one error names every bad variable of every part. */
export type ConfigProblems = FoundProblem[]

/**
 * The optional settings an API function may read, beyond the Ably key, the JWT settings and `CORS_ORIGIN` that every
 * API route needs. A function whose routes do not read a setting neither checks it nor fails over it; it keeps its
 * default. `restUrl` is `ABLY_REST_URL`, `tokenTtl` is `ABLY_TOKEN_TTL`, `adminRoles` is `ABLY_ADMIN_ROLES`.
 */
export type ApiSetting = 'restUrl' | 'tokenTtl' | 'adminRoles' | 'revocation'

/** Every setting: what a host that serves every route reads. */
export const ALL_API_SETTINGS: readonly ApiSetting[] = ['restUrl', 'tokenTtl', 'adminRoles', 'revocation']

/** The request deadline (see `Config.deadlineMs`). */
export const DEADLINE_MS = 8000

/** The environment variables the API reads, as a runtime hands them over. */
export type Env = Readonly<Record<string, string | undefined>>

/** Thrown when the environment is missing, malformed or weak; lists every problem with its fix. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p.message}`).join('\n')}`)
  }

  /** The bad variables, each once, in the order they were found. */
  get variables(): string[] {
    return [...new Set(this.problems.map((problem) => problem.variable))]
  }
}

/** Throws the `ConfigError` of `problems`, each message (starting with its variable's name) written out with `messages`. */
export function throwProblems(problems: ConfigProblems, messages: ConfigMessages): never {
  throw new ConfigError(
    problems.map((problem) => {
      if (!('say' in problem)) return problem
      const [name, ...values] = problem.say
      return { variable: problem.variable, message: `${problem.variable} ${(messages[name] as (...args: unknown[]) => string)(...values)}` }
    }),
  )
}

/** Adds a problem whose message starts with the variable's name. */
export function addProblem(problems: ConfigProblems, variable: string, message: string): void {
  problems.push({ variable, message: `${variable} ${message}` })
}

/** Adds a problem that says one of `./messages.ts`'s messages, written out only when the error is thrown. */
export function sayProblem(problems: ConfigProblems, variable: string, ...say: Say): void {
  problems.push({ variable, say })
}

export const DEFAULT_ABLY_REST_URL = 'https://main.realtime.ably.net'
export const MIN_JWT_SECRET_LENGTH = 32
export const MIN_ABLY_SECRET_LENGTH = 16
export const MAX_TOKEN_TTL_SEC = 24 * 60 * 60
/** Ably caps the tokens of a key with revocable tokens at one hour, and refuses longer ones. */
const MAX_REVOCABLE_TOKEN_TTL_SEC = 60 * 60
const DEFAULT_REVOCATION_RETENTION_SEC = 30 * 24 * 60 * 60
const MIN_TOKEN_TTL_SEC = 60
/** The longest `ABLY_TOKEN_MIN_TTL`: how long a signed-out user may keep reading until revocation exists. */
const MAX_TOKEN_MIN_TTL_SEC = 900
/** A role name as providers spell them (`admin`, `org:admin`, `https://example.com/admin`): printable, no space or comma. */
const ROLE_NAME = /^[\x21-\x2b\x2d-\x7e]{1,64}$/

// ably-js validates keys with ^([^:\s]+):([^:.\s]+)$; the key name itself is `appId.keyId`.
const ABLY_KEY = /^([^:.\s]+)\.([^:.\s]+):([^:.\s]+)$/
const PLACEHOLDERS = /^(change.?me|secret|password|example|test|dev|your[-_ ]?secret.*|x+)$/i

/**
 * Reads the API's environment into a typed config, adding every problem to `problems`, with the JWT part read by
 * `readJwtPart`: the full reader (`./jwt.ts`, as `readConfig` in `./parse.ts` does), or, for an environment with no
 * provider variable, the secret-only one (`./jwt-secret.ts`), which `loadConfig` (`./load.ts`) picks at the edge.
 * `settings` are the optional settings the routes read (see `ApiSetting`); the rest keep their defaults unchecked.
 */
export function readConfigWith(readJwtPart: JwtReader, env: Env, problems: ConfigProblems, settings: readonly ApiSetting[]): Config | undefined {
  const value = (name: string) => envValue(env, name)
  const uses = (setting: ApiSetting) => settings.includes(setting)

  const ably = readAbly(env, problems, { restUrl: uses('restUrl') })
  const jwt = readJwtPart(env, problems, parseJwtSecret)
  const corsOrigins = parseOrigins(value('CORS_ORIGIN'), problems)
  const tokenTtlSec = uses('tokenTtl') ? parseInteger('ABLY_TOKEN_TTL', value('ABLY_TOKEN_TTL'), 3600, MIN_TOKEN_TTL_SEC, MAX_TOKEN_TTL_SEC, problems) : 3600
  const tokenMinTtlSec = uses('tokenTtl') ? parseInteger('ABLY_TOKEN_MIN_TTL', value('ABLY_TOKEN_MIN_TTL'), 0, 0, MAX_TOKEN_MIN_TTL_SEC, problems) : 0
  const adminRoles = uses('adminRoles') ? parseList(value('ABLY_ADMIN_ROLES')) : []
  for (const role of adminRoles.filter((role) => !ROLE_NAME.test(role))) {
    sayProblem(problems, 'ABLY_ADMIN_ROLES', 'notRole', role)
  }

  const revocable = uses('revocation') ? parseBoolean('ABLY_REVOCABLE_TOKENS', value('ABLY_REVOCABLE_TOKENS'), problems) : false
  if (revocable && tokenTtlSec > MAX_REVOCABLE_TOKEN_TTL_SEC) {
    sayProblem(problems, 'ABLY_TOKEN_TTL', 'revocableTtlTooLong', MAX_REVOCABLE_TOKEN_TTL_SEC, tokenTtlSec)
  }

  if (ably && jwt?.secret && ably.key.secret === jwt.secret) {
    sayProblem(problems, 'JWT_SECRET', 'secretIsAblySecret')
  }
  if (!ably || !jwt) return undefined
  return {
    ably,
    jwt,
    corsOrigins,
    tokenTtlSec,
    tokenMinTtlSec: Math.min(tokenMinTtlSec, tokenTtlSec),
    adminRoles,
    revocation: { enabled: revocable, retentionSec: Math.max(jwt.maxAgeSec ?? DEFAULT_REVOCATION_RETENTION_SEC, tokenTtlSec) },
    deadlineMs: DEADLINE_MS,
  }
}

function parseBoolean(name: string, raw: string | undefined, problems: ConfigProblems): boolean {
  if (raw === undefined || raw === 'false') return false
  if (raw === 'true') return true
  sayProblem(problems, name, 'notBoolean', raw)
  return false
}

/** `parseAblyEnv`'s reader (`./check.ts`); with `restUrl: false`, `ABLY_REST_URL` is neither read nor checked. */
export function readAbly(env: Env, problems: ConfigProblems, { restUrl: readRestUrl = true } = {}): Config['ably'] | undefined {
  const key = parseAblyKey(envValue(env, 'ABLY_API_KEY'), problems)
  const restUrl = readRestUrl ? parseUrl('ABLY_REST_URL', envValue(env, 'ABLY_REST_URL') ?? DEFAULT_ABLY_REST_URL, problems) : DEFAULT_ABLY_REST_URL
  return key && restUrl ? { key, restUrl } : undefined
}

/** A variable's value, trimmed; `undefined` when it is unset or blank. */
export function envValue(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim()
  return raw === undefined || raw === '' ? undefined : raw
}

function parseAblyKey(raw: string | undefined, problems: ConfigProblems): AblyKey | undefined {
  if (raw === undefined) {
    sayProblem(problems, 'ABLY_API_KEY', 'ablyKeyMissing')
    return undefined
  }
  const match = ABLY_KEY.exec(raw)
  if (!match) {
    sayProblem(problems, 'ABLY_API_KEY', 'ablyKeyMalformed')
    return undefined
  }
  const [, appId = '', keyId = '', secret = ''] = match
  if (secret.length < MIN_ABLY_SECRET_LENGTH) {
    sayProblem(problems, 'ABLY_API_KEY', 'ablyKeyShort')
    return undefined
  }
  return { appId, name: `${appId}.${keyId}`, secret }
}

function parseJwtSecret(raw: string | undefined, problems: ConfigProblems): string | undefined {
  if (raw === undefined || raw === '') {
    sayProblem(problems, 'JWT_SECRET', 'secretMissing')
    return undefined
  }
  if (raw !== raw.trim()) {
    sayProblem(problems, 'JWT_SECRET', 'secretWhitespace')
    return undefined
  }
  if (raw.length < MIN_JWT_SECRET_LENGTH || PLACEHOLDERS.test(raw) || new Set(raw).size < 8) {
    sayProblem(problems, 'JWT_SECRET', 'secretWeak')
    return undefined
  }
  return raw
}

function parseUrl(name: string, raw: string, problems: ConfigProblems): string | undefined {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    sayProblem(problems, name, 'notUrl')
    return undefined
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password || url.search || url.hash) {
    sayProblem(problems, name, 'notPlainUrl')
    return undefined
  }
  return url.origin + url.pathname.replace(/\/+$/, '')
}

function parseOrigins(raw: string | undefined, problems: ConfigProblems): string[] {
  return parseList(raw).filter((origin) => {
    let parsed: URL | undefined
    try {
      parsed = new URL(origin)
    } catch {
      parsed = undefined
    }
    if (parsed && parsed.origin === origin && (parsed.protocol === 'https:' || parsed.protocol === 'http:')) return true
    sayProblem(problems, 'CORS_ORIGIN', 'notOrigin', origin)
    return false
  })
}

/** A whole number in `[min, max]`, or `fallback` when unset; anything else adds a problem naming `name`. */
export function parseInteger(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
  problems: ConfigProblems,
  { unit = 'seconds', why = '' }: { unit?: string; why?: string } = {},
): number {
  if (raw === undefined) return fallback
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    sayProblem(problems, name, 'notInRange', unit, min, max, why, raw)
    return fallback
  }
  return Number(raw)
}

function parseList(raw: string | undefined): string[] {
  return raw === undefined
    ? []
    : raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '')
}
