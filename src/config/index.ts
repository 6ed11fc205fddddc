/** Configuration: read once at the door from the runtime's environment, checked, and passed in typed. */
import { ID_PATTERN } from '../channels/index.ts'

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
  readonly jwt: {
    /** The app's HS256 secret for the JWTs its login issues. */
    readonly secret: string
    readonly issuer?: string
    readonly audience?: string
    /** Reject app JWTs older than this many seconds (by `iat`), when set. */
    readonly maxAgeSec?: number
    readonly clockToleranceSec: number
  }
  /** Origins allowed to call the API from a browser; empty means same-origin only. */
  readonly corsOrigins: readonly string[]
  /** Lifetime of issued Ably tokens in seconds, never past the app JWT's own `exp`. */
  readonly tokenTtlSec: number
  /** App-JWT roles that may read or publish any user's channels. */
  readonly adminRoles: readonly string[]
  /** Answer 504 once a request has run this long (below the platform's 10 s). */
  readonly deadlineMs: number
}

/** The environment variables the API reads, as a runtime hands them over. */
export type Env = Readonly<Record<string, string | undefined>>

/** Thrown at start when the environment is missing, malformed or weak; lists every problem with its fix. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
  }
}

export const DEFAULT_ABLY_REST_URL = 'https://main.realtime.ably.net'
export const MIN_JWT_SECRET_LENGTH = 32
export const MIN_ABLY_SECRET_LENGTH = 16
export const MAX_TOKEN_TTL_SEC = 24 * 60 * 60
const MIN_TOKEN_TTL_SEC = 60

// ably-js validates keys with ^([^:\s]+):([^:.\s]+)$; the key name itself is `appId.keyId`.
const ABLY_KEY = /^([^:.\s]+)\.([^:.\s]+):([^:.\s]+)$/
const PLACEHOLDERS = /^(change.?me|secret|password|example|test|dev|your[-_ ]?secret.*|x+)$/i

/** Parses and checks the environment into a typed config, or throws one `ConfigError` naming every bad variable. */
export function parseConfig(env: Env): Config {
  const problems: string[] = []
  const value = (name: string) => envValue(env, name)

  const { key: ablyKey, restUrl } = parseAblyPart(env, problems)
  const jwtSecret = parseJwtSecret(env.JWT_SECRET, problems)
  const corsOrigins = parseOrigins(value('CORS_ORIGIN'), problems)
  const tokenTtlSec = parseInteger('ABLY_TOKEN_TTL', value('ABLY_TOKEN_TTL'), 3600, MIN_TOKEN_TTL_SEC, MAX_TOKEN_TTL_SEC, problems)
  const maxAge = value('JWT_MAX_AGE')
  const maxAgeSec = maxAge === undefined ? undefined : parseInteger('JWT_MAX_AGE', maxAge, 0, 60, 30 * 24 * 3600, problems)
  const adminRoles = parseList(value('ABLY_ADMIN_ROLES'))
  for (const role of adminRoles.filter((role) => !ID_PATTERN.test(role))) {
    problems.push(`ABLY_ADMIN_ROLES: role "${role.slice(0, 70)}" is not valid. Use comma-separated role names of letters, digits, "_" or "-".`)
  }

  if (ablyKey && jwtSecret && ablyKey.secret === jwtSecret) {
    problems.push('JWT_SECRET must differ from the ABLY_API_KEY secret: otherwise an Ably token could pass as an app login. Generate a new one.')
  }
  if (problems.length > 0 || !ablyKey || !jwtSecret || !restUrl) throw new ConfigError(problems)
  return {
    ably: { key: ablyKey, restUrl },
    jwt: {
      secret: jwtSecret,
      issuer: value('JWT_ISSUER'),
      audience: value('JWT_AUDIENCE'),
      maxAgeSec,
      clockToleranceSec: 5,
    },
    corsOrigins,
    tokenTtlSec,
    adminRoles,
    deadlineMs: 8000,
  }
}

/**
 * Only the Ably part of the environment (`ABLY_API_KEY`, `ABLY_REST_URL`), for a Node server that publishes with the
 * key but verifies no logins; throws one `ConfigError` like `parseConfig`.
 */
export function parseAblyEnv(env: Env): Config['ably'] {
  const problems: string[] = []
  const { key, restUrl } = parseAblyPart(env, problems)
  if (problems.length > 0 || !key || !restUrl) throw new ConfigError(problems)
  return { key, restUrl }
}

/** A variable's value, trimmed; `undefined` when it is unset or blank. */
export function envValue(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim()
  return raw === undefined || raw === '' ? undefined : raw
}

function parseAblyPart(env: Env, problems: string[]) {
  return {
    key: parseAblyKey(envValue(env, 'ABLY_API_KEY'), problems),
    restUrl: parseUrl('ABLY_REST_URL', envValue(env, 'ABLY_REST_URL') ?? DEFAULT_ABLY_REST_URL, problems),
  }
}

function parseAblyKey(raw: string | undefined, problems: string[]): AblyKey | undefined {
  if (raw === undefined) {
    problems.push('ABLY_API_KEY is not set. Copy an API key ("appId.keyId:secret") from your Ably dashboard (API Keys tab).')
    return undefined
  }
  const match = ABLY_KEY.exec(raw)
  if (!match) {
    problems.push('ABLY_API_KEY is malformed. It must look like "appId.keyId:secret", exactly as the Ably dashboard shows it.')
    return undefined
  }
  const [, appId = '', keyId = '', secret = ''] = match
  if (secret.length < MIN_ABLY_SECRET_LENGTH) {
    problems.push(`ABLY_API_KEY has a secret shorter than ${MIN_ABLY_SECRET_LENGTH} characters. Use a real key from the Ably dashboard.`)
    return undefined
  }
  return { appId, name: `${appId}.${keyId}`, secret }
}

function parseJwtSecret(raw: string | undefined, problems: string[]): string | undefined {
  if (raw === undefined || raw === '') {
    problems.push('JWT_SECRET is not set. Set it to the HS256 secret your app signs its login JWTs with (at least 32 random characters, e.g. `openssl rand -base64 48`).')
    return undefined
  }
  if (raw !== raw.trim()) {
    problems.push('JWT_SECRET starts or ends with whitespace (often a pasted newline). Remove it, or every login JWT will fail to verify.')
    return undefined
  }
  if (raw.length < MIN_JWT_SECRET_LENGTH || PLACEHOLDERS.test(raw) || new Set(raw).size < 8) {
    problems.push(`JWT_SECRET is too weak. Use at least ${MIN_JWT_SECRET_LENGTH} random characters, e.g. \`openssl rand -base64 48\`.`)
    return undefined
  }
  return raw
}

function parseUrl(name: string, raw: string, problems: string[]): string | undefined {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    problems.push(`${name} is not a URL. Use e.g. ${DEFAULT_ABLY_REST_URL}, or http://localhost:8889 for the local hub.`)
    return undefined
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password || url.search || url.hash) {
    problems.push(`${name} must be a plain http(s) URL with no credentials or query, e.g. ${DEFAULT_ABLY_REST_URL}.`)
    return undefined
  }
  return url.origin + url.pathname.replace(/\/+$/, '')
}

function parseOrigins(raw: string | undefined, problems: string[]): string[] {
  return parseList(raw).filter((origin) => {
    let parsed: URL | undefined
    try {
      parsed = new URL(origin)
    } catch {
      parsed = undefined
    }
    if (parsed && parsed.origin === origin && (parsed.protocol === 'https:' || parsed.protocol === 'http:')) return true
    problems.push(
      `CORS_ORIGIN entry "${origin.slice(0, 100)}" is not an origin. List exact origins separated by commas, e.g. "https://app.example.com,http://localhost:5173" (no "*", no path, no trailing slash).`,
    )
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
  problems: string[],
  { unit = 'seconds', why = '' }: { unit?: string; why?: string } = {},
): number {
  if (raw === undefined) return fallback
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    problems.push(`${name} must be a whole number of ${unit} between ${min} and ${max}${why}; got "${raw.slice(0, 20)}".`)
    return fallback
  }
  return Number(raw)
}

function parseList(raw: string | undefined): string[] {
  return raw === undefined ? [] : raw.split(',').map((item) => item.trim()).filter((item) => item !== '')
}
