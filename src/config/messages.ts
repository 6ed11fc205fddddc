/**
 * What each problem the edge's config readers can find says, and how to fix it: loaded only when a variable is bad
 * (`loadConfig`), so an isolate with a good environment never evaluates this prose. Each message follows the
 * variable's name (`ABLY_API_KEY is not set…`) and never echoes a secret.
 */
import { DEFAULT_ABLY_REST_URL, MIN_ABLY_SECRET_LENGTH, MIN_JWT_SECRET_LENGTH } from './index.ts'

export const configMessages = {
  ablyKeyMissing: () =>
    'is not set (ABLY_API_KEY environment variable not configured). Copy an API key ("appId.keyId:secret") from your Ably dashboard (API Keys tab).',
  ablyKeyMalformed: () => 'is malformed. It must look like "appId.keyId:secret", exactly as the Ably dashboard shows it.',
  ablyKeyShort: () => `has a secret shorter than ${MIN_ABLY_SECRET_LENGTH} characters. Use a real key from the Ably dashboard.`,
  secretMissing: () =>
    "is not set. Set it to the HS256 secret your app signs its login JWTs with (at least 32 random characters, e.g. `openssl rand -base64 48`), or verify your identity provider's tokens instead with JWT_PROVIDER (or JWT_JWKS_URL / JWT_PUBLIC_KEY) and JWT_ISSUER.",
  secretWhitespace: () => 'starts or ends with whitespace (often a pasted newline). Remove it, or every login JWT will fail to verify.',
  secretWeak: () => `is too weak. Use at least ${MIN_JWT_SECRET_LENGTH} random characters, e.g. \`openssl rand -base64 48\`.`,
  secretIsAblySecret: () => 'must differ from the ABLY_API_KEY secret: otherwise an Ably token could pass as an app login. Generate a new one.',
  notUrl: () => `is not a URL. Use e.g. ${DEFAULT_ABLY_REST_URL}, or http://localhost:8889 for the local hub.`,
  notPlainUrl: () => `must be a plain http(s) URL with no credentials or query, e.g. ${DEFAULT_ABLY_REST_URL}.`,
  notOrigin: (origin: string) =>
    `has the entry "${origin.slice(0, 100)}", which is not an origin. List exact origins separated by commas, e.g. "https://app.example.com,http://localhost:5173" (no "*", no path, no trailing slash).`,
  notRole: (role: string) =>
    `has the role "${role.slice(0, 70)}", which is not valid. Use comma-separated role names of up to 64 printable characters without spaces, e.g. "admin,org:admin".`,
  notBoolean: (raw: string) => `must be "true" or "false"; got "${raw.slice(0, 20)}".`,
  notInRange: (unit: string, min: number, max: number, why: string, raw: string) =>
    `must be a whole number of ${unit} between ${min} and ${max}${why}; got "${raw.slice(0, 20)}".`,
  revocableTtlTooLong: (max: number, ttl: number) =>
    `must be at most ${max} when ABLY_REVOCABLE_TOKENS=true: Ably refuses longer tokens from a key with revocable tokens; got "${ttl}".`,
  notCookieName: () => 'must be a cookie name (letters, digits and !#$%&\'*+-.^_`|~), e.g. "__session".',
}

export type ConfigMessages = typeof configMessages
