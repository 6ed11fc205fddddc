/** Verifies the app JWT from `Authorization: Bearer …` and puts the caller in `c.var.user`. */
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
}

export function authenticate({ verify, optional = false, refuseAs }: AuthenticateOptions): MiddlewareHandler<AppEnv> {
  return async function authenticate(c, next) {
    const header = c.req.header('authorization')
    if (header !== undefined || !optional) {
      try {
        c.set('user', await verify(bearerToken(header)))
      } catch (error) {
        if (refuseAs === undefined || !(error instanceof AppError) || error.code !== 'invalid_token') throw error
        throw new AppError(refuseAs, { reason: error.reason, headers: error.headers, cause: error })
      }
    }
    await next()
  }
}
