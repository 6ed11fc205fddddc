/** The Hono environment shared by every route: typed request-scoped variables. */
import type { AppUser } from './auth/app-token.ts'
import type { ErrorCode } from './errors/index.ts'

export interface AppEnv {
  Variables: {
    requestId: string
    /** The verified caller, once a route has authenticated the request. */
    user?: AppUser
    /** Why the request failed, for the request log only. */
    failure?: { code: ErrorCode; reason?: string }
    /** Set by the deadline: stops the request's clock (while its body arrives); the returned function restarts it in full. */
    suspendDeadline?: () => () => void
  }
}
