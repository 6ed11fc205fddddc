/**
 * What every door does with its runtime's environment. Serverless doors build their handler on the first request
 * (`lazyHandler`), so importing an entry file never throws and needs no variable: a platform's build can load it
 * without secrets, and one bad secret breaks only that function's requests, never the functions loaded beside it.
 * Doors where a person is watching (`npm start`, `hosts/deno-serve.ts`) fail fast at start with `appFromEnv`.
 */
import { requestId } from 'hono/request-id'
import { Hono } from 'hono/tiny'
import { createApp, type AppDeps } from '../app.ts'
import type { AppEnv } from '../app-env.ts'
import { ALL_API_SETTINGS, ConfigError, parseConfig, type ApiSetting, type Env } from '../config/index.ts'
import { AppError } from '../errors/index.ts'
import { renderError } from '../errors/render.ts'
import { jsonLineLogger, type Logger } from '../log/index.ts'
import { securityHeaders } from '../middleware/security-headers/index.ts'

/** What a handler may use of the platform's per-request context (Netlify passes one to every function). */
export interface PlatformContext {
  readonly deploy?: { readonly context?: string; readonly published?: boolean }
}

/** A request handler, as Netlify's edge and Node runtimes, Deno and Workers call it. */
export type Fetch = (request: Request, context?: PlatformContext) => Response | Promise<Response>

/** Builds a handler from a checked environment; throws a `ConfigError` naming every bad variable. */
export type HandlerBuilder = (env: Env, log: Logger) => Fetch

export interface ApiOptions extends AppDeps {
  /** The optional settings these routes read (see `ApiSetting`); all of them by default. */
  settings?: readonly ApiSetting[]
}

/** The app for `env`; throws the `ConfigError` naming every bad variable, so a host fails closed at start. */
export function appFromEnv(env: Env, { settings = ALL_API_SETTINGS, ...deps }: ApiOptions) {
  return createApp(parseConfig(env, settings), deps)
}

/** A builder for the API app serving `routes`, for `lazyHandler` and `handlerPerEnv`. */
export function apiHandler(options: ApiOptions): HandlerBuilder {
  return (env, log) => {
    const app = appFromEnv(env, { log, ...options })
    // Not `app.fetch` itself: Hono would take the platform's context for its `env` bindings.
    return (request) => app.fetch(request)
  }
}

/**
 * The entry-file API of a serverless door: reads the environment and builds the handler on the first request, once
 * per isolate, and keeps it. A bad environment gets a handler that answers every request with the generic JSON 500
 * `internal_error` and logs one `config_error` line naming every bad variable (see `configErrorHandler`).
 */
export function lazyHandler(readEnv: () => Env, build: HandlerBuilder, { log = jsonLineLogger }: { log?: Logger } = {}): (request: Request, context?: PlatformContext) => Promise<Response> {
  let handler: Fetch | undefined
  return async (request, context) => {
    handler ??= handlerOrConfigError(readEnv(), build, log)
    return handler(request, context)
  }
}

/** A request handler that takes its environment with each request, as Cloudflare Workers hand it over. */
export type EnvFetch = (request: Request, env: object) => Promise<Response>

/** Like `lazyHandler`, for hosts whose environment arrives with each request: one handler per env object. */
export function handlerPerEnv(build: HandlerBuilder, { log = jsonLineLogger }: { log?: Logger } = {}): EnvFetch {
  const handlers = new WeakMap<object, Fetch>()
  return async (request, env) => {
    let handler = handlers.get(env)
    if (handler === undefined) {
      handler = handlerOrConfigError(stringValues(env), build, log)
      handlers.set(env, handler)
    }
    return handler(request)
  }
}

function handlerOrConfigError(env: Env, build: HandlerBuilder, log: Logger): Fetch {
  try {
    return build(env, log)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    return configErrorHandler(error, log)
  }
}

/**
 * Answers every request with the generic 500 (requestId, security headers) and logs one `config_error` line per
 * request, naming every bad variable and its fix: logged per request, not once, so the fix shows beside whichever
 * failing request someone is looking at.
 */
export function configErrorHandler(error: ConfigError, log: Logger): Fetch {
  const app = new Hono<AppEnv>().use(requestId(), securityHeaders()).all('*', (c) => {
    log({ level: 'error', msg: 'config_error', requestId: c.get('requestId'), variables: error.variables, problems: error.problems })
    return renderError(c, new AppError('internal_error', { reason: 'config_error' }))
  })
  return (request) => app.fetch(request)
}

// Workers bindings mix strings with KV namespaces, queues and the like; only the strings are configuration.
function stringValues(env: object): Env {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === 'string'))
}
