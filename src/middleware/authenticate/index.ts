/** Verifies the app JWT from `Authorization: Bearer …` (or, on the token route, a cookie) and puts the caller in `c.var.caller`. */
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../../app-env.ts'
import { bearerToken, type AppTokenVerifier } from '../../auth/app-token.ts'
import { AppError, type ErrorCode } from '../../errors/index.ts'

export interface AuthenticateOptions {
  verify: AppTokenVerifier
  /** When true, a request without an Authorization header passes through anonymously. */
  optional?: boolean
  /**
   * The code a refused app JWT gets instead of 401 `invalid_token`, with the same `WWW-Authenticate` and log reason
   * (the token route answers 403 `signed_out`, the one refusal ably-js does not retry).
   */
  refuseAs?: ErrorCode
  /**
   * `JWT_COOKIE`: read the app JWT from this cookie when there is no Authorization header. Only the token route sets
   * it: its answer cannot be read cross-origin, while a cookie sent along with a cross-site `POST` to the gateway
   * would publish in the user's name. Hono's cookie parser is imported on the first request that needs it.
   */
  cookie?: string
}

export function authenticate({ verify, optional = false, refuseAs, cookie }: AuthenticateOptions): MiddlewareHandler<AppEnv> {
  return async function authenticate(c, next) {
    const header = c.req.header('authorization')
    const fromCookie = header === undefined && cookie !== undefined ? (await import('hono/cookie')).getCookie(c, cookie) : undefined
    if (header !== undefined || fromCookie !== undefined || !optional) {
      try {
        c.set('caller', await verify(fromCookie ?? bearerToken(header)))
      } catch (error) {
        if (refuseAs === undefined || !(error instanceof AppError) || error.code !== 'invalid_token') throw error
        throw new AppError(refuseAs, { reason: error.reason, headers: error.headers, cause: error })
      }
    }
    await next()
  }
}
