/** `createApp(config, deps)`: the one Hono app every host serves (Netlify edge and Node, Deno, Workers, `npm start`). */
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { requestId } from 'hono/request-id'
import { Hono } from 'hono/tiny'
import { createFetchAblyRest, type AblyRest } from './ably-rest/index.ts'
import type { AppEnv } from './app-env.ts'
import { createAppTokenVerifier, type AppTokenVerifier } from './auth/app-token.ts'
import { channelErrorHelp } from './channels/index.ts'
import type { Config } from './config/index.ts'
import { AppError, codeForStatus } from './errors/index.ts'
import { describeError, jsonLineLogger, type Logger } from './log/index.ts'
import { corsAllowList } from './middleware/cors/index.ts'
import { deadline } from './middleware/deadline/index.ts'
import { requestLog } from './middleware/request-log/index.ts'
import { securityHeaders } from './middleware/security-headers/index.ts'

/** What route factories receive: the checked config and the shared services, built once per app. */
export interface AppServices {
  config: Config
  verify: AppTokenVerifier
  ably: AblyRest
  log: Logger
  now: () => number
}

/**
 * Builds routes mounted under `/api/ably`. Each host lists the routes it serves, so an edge bundle carries only
 * its own route (the token function has no stats or gateway code).
 */
export type RouteFactory = (services: AppServices) => Hono<AppEnv>

export interface AppDeps {
  /** Ably's REST API; defaults to `fetch` against `config.ably.restUrl`. */
  ably?: AblyRest
  log?: Logger
  /** The clock, in ms since the epoch. */
  now?: () => number
  /** The routes this host serves, e.g. `[tokenRoutes]` or `edgeRoutes` (see `src/routes/index.ts`). */
  routes: readonly RouteFactory[]
}

export const API_BASE = '/api/ably'

/** Builds the app: shared middleware, one error vocabulary, and the routes the host serves. */
export function createApp(config: Config, deps: AppDeps): Hono<AppEnv> {
  const {
    ably = createFetchAblyRest({ key: config.ably.key, restUrl: config.ably.restUrl }),
    log = jsonLineLogger,
    now = Date.now,
    routes,
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
    deadline(config.deadlineMs),
  )
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

/**
 * Renders an error as `{ error, code, requestId }` with its status and headers, and notes it for the request log.
 * The media type carries `charset=utf-8`: ably-js on Node reads a bare `application/json` error body as an Ably
 * error, whose `error` field ours is not, and would lose the status (a 403 from the token route would be retried).
 */
export function renderError(c: Context<AppEnv>, error: AppError): Response {
  c.set('failure', { code: error.code, ...(error.reason !== undefined && { reason: error.reason }) })
  for (const [name, value] of Object.entries(error.headers)) c.header(name, value)
  const help = channelErrorHelp(error.code)
  const details = help ? { ...(typeof error.details === 'object' && error.details), ...help } : error.details
  const body = { error: error.message, code: error.code, requestId: c.get('requestId'), ...(details !== undefined && { details }) }
  return c.body(JSON.stringify(body), error.status, { 'Content-Type': 'application/json; charset=utf-8' })
}

function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error
  if (error instanceof HTTPException) return new AppError(codeForStatus(error.status), undefined, { cause: error })
  return new AppError('internal_error', undefined, { cause: error })
}
