/** The Hono environment shared by every route (typed request-scoped variables), and what route factories receive. */
import type { Hono } from 'hono/tiny'
import type { AblyRest, AblyRevoke } from './ably-rest/index.ts'
import type { AppTokenVerifier } from './auth/app-token.ts'
import type { Caller } from './auth/caller.ts'
import type { Config } from './config/index.ts'
import type { ErrorCode } from './errors/index.ts'
import type { Logger } from './log/index.ts'
import type { ChannelsPolicy, CredentialPolicy } from './policy/index.ts'
import type { RevocationServices } from './revocation/services.ts'

export interface AppEnv {
  Variables: {
    requestId: string
    /** The verified caller, once a route has authenticated the request. */
    caller?: Caller
    /** Why the request failed, for the request log only. */
    failure?: { code: ErrorCode; message?: string; reason?: string }
    /** Set by the deadline: stops the request's clock (while its body arrives); the returned function restarts it in full. */
    suspendDeadline?: () => () => void
  }
}

/**
 * What route factories receive: the checked config and the shared services, built once per app. `P` is what the
 * routes use of the channel policy (see `RouteFactory`).
 */
export interface AppServices<P extends CredentialPolicy = ChannelsPolicy> {
  config: Config
  verify: AppTokenVerifier
  ably: AblyRest
  log: Logger
  now: () => number
  /**
   * The site's channel policy, which these routes derive channels, capabilities and checks from (events are the
   * gateway's: see `createGateway`); absent, each route uses its facet of the SMS inbox.
   */
  policy: P | undefined
  /** Present when `ABLY_REVOCABLE_TOKENS=true`: the deny-list and the session keys (loaded on first use), and Ably's `revokeTokens`. */
  revocation?: Revocation
}

export interface Revocation {
  /** The deny-list, the session keys and the session check, loaded on the first call (`lazyRevocation`). */
  load(): Promise<RevocationServices>
  ably: AblyRevoke
}

/**
 * Builds routes mounted under `/api/ably`. Each host lists the routes it serves, so an edge bundle carries only
 * its own route (the token function has no stats or gateway code). `P` is what the routes use of a policy: the token
 * and revoke routes its credential facet (`CredentialPolicy`), the others its channels (`ChannelsPolicy`).
 */
export type RouteFactory<P extends CredentialPolicy = ChannelsPolicy> = (services: AppServices<P>) => Hono<AppEnv>
