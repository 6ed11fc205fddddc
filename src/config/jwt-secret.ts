/**
 * The part of the JWT settings an app that signs its own logins needs (`JWT_SECRET`, `JWT_ISSUER`, `JWT_AUDIENCE`,
 * `JWT_MAX_AGE`, `JWT_COOKIE`): small, so an edge isolate with only a secret never loads the provider reader
 * (`./jwt.ts`: presets, keys, claim pointers). `./load.ts` picks the reader from the variables that are set.
 */
import type { ClaimMapping } from '../auth/claims.ts'
import type { JwtConfig } from './jwt.ts'
import { envValue, parseInteger, sayProblem, type ConfigProblems, type Env } from './index.ts'

/**
 * The longest app JWT accepted. Ably's own budget for a request's headers is 8 KiB; an Auth0 access token with 60
 * permissions and a Cognito access token in 40 groups are both under 3 KiB (tests/auth/provider-sizes.test.ts).
 */
export const MAX_APP_JWT_LENGTH = 8192

/** The claims of the app's own login tokens, as before providers. */
export const SELF_SIGNED_CLAIMS: ClaimMapping = { user: [['userId'], ['sub']], role: ['role'], session: ['sid'], singleRole: true }

/**
 * The variables only the provider reader (`./jwt.ts`) understands: with none of them set, the secret-only reader
 * gives the same config (tests/config/lazy-reader.test.ts holds the two to that).
 */
export const PROVIDER_VARIABLES = [
  'JWT_PROVIDER',
  'JWT_JWKS_URL',
  'JWT_PUBLIC_KEY',
  'JWT_USER_CLAIM',
  'JWT_ROLE_CLAIM',
  'JWT_SESSION_CLAIM',
  'JWT_MEMBERSHIP_CLAIM',
] as const

/** Whether `env` needs the provider reader: keys, a preset, or a claim mapping of its own. */
export const needsProviderReader = (env: Env): boolean => PROVIDER_VARIABLES.some((name) => envValue(env, name) !== undefined)

/** Reads the JWT settings; returns `undefined` only after adding a problem. */
export type JwtReader = (
  env: Env,
  problems: ConfigProblems,
  parseSecret: (raw: string | undefined, problems: ConfigProblems) => string | undefined,
) => JwtConfig | undefined

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/

/** `JWT_MAX_AGE` and `JWT_COOKIE`, read alike by both readers. */
export function readJwtCommon(env: Env, problems: ConfigProblems): { maxAgeSec?: number; cookie?: string } {
  const maxAge = envValue(env, 'JWT_MAX_AGE')
  const maxAgeSec = maxAge === undefined ? undefined : parseInteger('JWT_MAX_AGE', maxAge, 0, 60, 30 * 24 * 3600, problems)
  const cookie = envValue(env, 'JWT_COOKIE')
  if (cookie !== undefined && !COOKIE_NAME.test(cookie)) sayProblem(problems, 'JWT_COOKIE', 'notCookieName')
  return { ...(maxAgeSec !== undefined && { maxAgeSec }), ...(cookie !== undefined && { cookie }) }
}

/** The JWT settings of an environment with none of {@link PROVIDER_VARIABLES}: the HS256 secret alone. */
export const readSecretOnlyJwt: JwtReader = (env, problems, parseSecret) => {
  const before = problems.length
  const secret = parseSecret(env.JWT_SECRET, problems)
  const common = readJwtCommon(env, problems)
  const issuer = envValue(env, 'JWT_ISSUER')
  const audience = envValue(env, 'JWT_AUDIENCE')
  if (problems.length > before || secret === undefined) return undefined
  return {
    secret,
    ...(issuer !== undefined && { issuer }),
    ...(audience !== undefined && { audience }),
    ...(common.maxAgeSec !== undefined && { maxAgeSec: common.maxAgeSec }),
    clockToleranceSec: 5,
    claims: SELF_SIGNED_CLAIMS,
    maxTokenLength: MAX_APP_JWT_LENGTH,
    ...(common.cookie !== undefined && { cookie: common.cookie }),
  }
}
