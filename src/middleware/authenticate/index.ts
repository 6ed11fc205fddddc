/** Verifies the app JWT from `Authorization: Bearer …` and puts the caller in `c.var.user`. */
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../../app-env.ts'
import { bearerToken, type AppTokenVerifier } from '../../auth/app-token.ts'

export interface AuthenticateOptions {
  verify: AppTokenVerifier
  /** When true, a request without an Authorization header passes through anonymously. */
  optional?: boolean
}

export function authenticate({ verify, optional = false }: AuthenticateOptions): MiddlewareHandler<AppEnv> {
  return async function authenticate(c, next) {
    const header = c.req.header('authorization')
    if (header !== undefined || !optional) c.set('user', await verify(bearerToken(header)))
    await next()
  }
}
