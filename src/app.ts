/** `createApp(config, deps)`: the one Hono app every host serves (Netlify edge and Node, Deno, Workers, `npm start`). */
import { HTTPException } from 'hono/http-exception'
import { Hono } from 'hono/tiny'
import type { AblyRest, AblyRevoke } from './ably-rest/index.ts'
import { lazyAblyRest } from './ably-rest/lazy.ts'
import type { AppEnv, AppServices, RouteFactory } from './app-env.ts'
import { createAppTokenVerifier } from './auth/app-token.ts'
import { ConfigError, type Config } from './config/index.ts'
import { AppError, codeForStatus } from './errors/index.ts'
import { renderError } from './errors/render.ts'
import { describeError, jsonLineLogger, type Logger } from './log/index.ts'
import type { ChannelsPolicy, CredentialPolicy } from './policy/index.ts'
import { corsAllowList } from './middleware/cors/index.ts'
import { deadline } from './middleware/deadline/index.ts'
import { requestIds } from './middleware/request-id/index.ts'
import { requestLog } from './middleware/request-log/index.ts'
import { securityHeaders } from './middleware/security-headers/index.ts'
import type { RevocationStore } from './revocation/deny-list.ts'
import { lazyRevocation } from './revocation/lazy.ts'

export interface AppDeps<P extends CredentialPolicy = ChannelsPolicy> {
  /** Ably's REST API; defaults to `fetch` against `config.ably.restUrl`, loaded on its first call (`lazyAblyRest`). */
  ably?: AblyRest
  log?: Logger
  /** The clock, in ms since the epoch. */
  now?: () => number
  /** The routes this host serves, e.g. `[tokenRoutes]` or `edgeRoutes` (see `src/routes/index.ts`). */
  routes: readonly RouteFactory<P>[]
  /**
   * The channel policy (see README, "Writing a channel policy"); the SMS inbox by default, each route taking its own
   * facet of it. These routes read no events (the gateway takes its policy, events and all, through `createGateway`),
   * so a policy of channels alone will do, and for the token and revoke routes alone, its credential facet.
   */
  policy?: P
  /**
   * Where the revocation deny-list lives, required when `ABLY_REVOCABLE_TOKENS=true`: Netlify Blobs on Netlify, this
   * process's memory under `npm start` (one process serves token and revoke). A host that passes none fails closed
   * with a `ConfigError`, rather than keep a deny-list that other instances never see.
   */
  revocationStore?: RevocationStore
  /** Ably's `revokeTokens`; defaults to `fetch` against `config.ably.restUrl` with the key. */
  ablyRevoke?: AblyRevoke
}

export const API_BASE = '/api/ably'

/** Builds the app: shared middleware, one error vocabulary, and the routes the host serves. */
export function createApp<P extends CredentialPolicy = ChannelsPolicy>(config: Config, deps: AppDeps<P>): Hono<AppEnv> {
  const { ably = lazyAblyRest({ key: config.ably.key, restUrl: config.ably.restUrl }), log = jsonLineLogger, now = Date.now, routes, policy } = deps
  const services: AppServices<P> = {
    config,
    ably,
    log,
    now,
    policy,
    verify: createAppTokenVerifier(config.jwt, { now, log }),
    ...(config.revocation.enabled && {
      revocation: lazyRevocation(deps.revocationStore ?? noRevocationStore(), config.ably.key.secret, {
        now,
        ably: deps.ablyRevoke ?? lazyAblyRest({ key: config.ably.key, restUrl: config.ably.restUrl }),
      }),
    }),
  }

  const app = new Hono<AppEnv>()
  app.use(requestIds(), requestLog({ log }), securityHeaders(), corsAllowList(config.corsOrigins), deadline(config.deadlineMs))
  for (const factory of routes) app.route(API_BASE, factory(services))

  app.notFound((c) => renderError(c, new AppError('not_found')))
  app.onError((error, c) => {
    const appError = toAppError(error)
    if (appError.status >= 500 && !(error instanceof AppError)) {
      log({ level: 'error', msg: 'unhandled_error', requestId: c.get('requestId'), error: describeError(error) })
    }
    return renderError(c, appError)
  })
  return app
}

function noRevocationStore(): never {
  throw new ConfigError([
    {
      variable: 'ABLY_REVOCABLE_TOKENS',
      message:
        'ABLY_REVOCABLE_TOKENS=true needs a deny-list that every instance shares, and this host has none: use Netlify (Netlify Blobs) or npm start, or pass `revocationStore` to createApp (see README, "Revocation").',
    },
  ])
}

function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error
  if (error instanceof HTTPException) return new AppError(codeForStatus(error.status), { cause: error })
  return new AppError('internal_error', { cause: error })
}
