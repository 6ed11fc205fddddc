/** `createApp(config, deps)`: the one Hono app every host serves (Netlify edge and Node, Deno, Workers, `npm start`). */
import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { methodNotAllowed } from 'hono/method-not-allowed'
import { requestId } from 'hono/request-id'
import type { Context } from 'hono'
import { createFetchAblyRest, type AblyRest } from './ably-rest/index.ts'
import type { AppEnv } from './app-env.ts'
import { createAblyTokenSigner } from './auth/ably-token.ts'
import { createAppTokenVerifier, type AppTokenVerifier } from './auth/app-token.ts'
import type { Config } from './config/index.ts'
import { AppError, codeForStatus } from './errors/index.ts'
import { describeError, jsonLineLogger, type Logger } from './log/index.ts'
import { corsAllowList } from './middleware/cors/index.ts'
import { deadline } from './middleware/deadline/index.ts'
import { requestLog } from './middleware/request-log/index.ts'
import { securityHeaders } from './middleware/security-headers/index.ts'
import { statsRoutes } from './routes/stats.ts'
import { tokenRoutes } from './routes/token.ts'

/** What route factories receive: the checked config and the shared services, built once per app. */
export interface AppServices {
  config: Config
  verify: AppTokenVerifier
  ably: AblyRest
  log: Logger
  now: () => number
}

/** Builds routes mounted under `/api/ably`, e.g. the publish gateway on Node (kept out of edge bundles). */
export type RouteFactory = (services: AppServices) => Hono<AppEnv>

export interface AppDeps {
  /** Ably's REST API; defaults to `fetch` against `config.ably.restUrl`. */
  ably?: AblyRest
  log?: Logger
  /** The clock, in ms since the epoch. */
  now?: () => number
  /** Routes beyond token and stats. */
  routes?: readonly RouteFactory[]
}

export const API_BASE = '/api/ably'

/** Builds the app: shared middleware, one error vocabulary, the token and stats routes, and any extra routes. */
export function createApp(config: Config, deps: AppDeps = {}): Hono<AppEnv> {
  const {
    ably = createFetchAblyRest({ key: config.ably.key, restUrl: config.ably.restUrl }),
    log = jsonLineLogger,
    now = Date.now,
    routes = [],
  } = deps
  const services: AppServices = {
    config,
    ably,
    log,
    now,
    verify: createAppTokenVerifier({ ...config.jwt, now }),
  }

  const app = new Hono<AppEnv>()
  app.use(
    requestId({ limitLength: 64, generator: () => crypto.randomUUID() }),
    requestLog({ log }),
    securityHeaders(),
    corsAllowList(config.corsOrigins),
    methodNotAllowed({ app, onMethodNotAllowed: (c, methods) => renderError(c, new AppError('method_not_allowed', undefined, { headers: { Allow: methods.join(', ') } })) }),
    deadline(config.deadlineMs),
  )

  app.route(
    API_BASE,
    tokenRoutes({
      verify: services.verify,
      sign: createAblyTokenSigner(config.ably.key),
      ttlSec: config.tokenTtlSec,
      now,
    }),
  )
  app.route(API_BASE, statsRoutes({ ably, verify: services.verify, adminRoles: config.adminRoles, now, startedAt: now(), log }))
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

/** Renders an error as `{ error, code, requestId }` with its status and headers, and notes it for the request log. */
export function renderError(c: Context<AppEnv>, error: AppError): Response {
  c.set('failure', { code: error.code, ...(error.reason !== undefined && { reason: error.reason }) })
  for (const [name, value] of Object.entries(error.headers)) c.header(name, value)
  return c.json(
    { error: error.message, code: error.code, requestId: c.get('requestId'), ...(error.details !== undefined && { details: error.details }) },
    error.status,
  )
}

function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error
  if (error instanceof HTTPException) return new AppError(codeForStatus(error.status), undefined, { cause: error })
  return new AppError('internal_error', undefined, { cause: error })
}
