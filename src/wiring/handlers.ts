/**
 * What every door does with its runtime's environment. Serverless doors build their handler on the first request
 * (`lazyHandler`), so importing an entry file never throws and needs no variable: a platform's build can load it
 * without secrets, and one bad secret breaks only that function's requests, never the functions loaded beside it.
 * Doors where a person is watching (`npm start`, `hosts/deno-serve.ts`) fail fast at start with `appFromEnv`
 * (`./app-from-env.ts`, which reads the config synchronously with every reader; kept apart so no edge bundle has it).
 */
import { requestId } from 'hono/request-id'
import { Hono } from 'hono/tiny'
import { createApp, type AppDeps } from '../app.ts'
import type { AppEnv } from '../app-env.ts'
import { ALL_API_SETTINGS, ConfigError, type ApiSetting, type Env } from '../config/index.ts'
import { loadConfig } from '../config/load.ts'
import { loadOnce } from '../lazy/index.ts'
import { AppError } from '../errors/index.ts'
import { renderError } from '../errors/render.ts'
import { jsonLineLogger, type Logger } from '../log/index.ts'
import type { ChannelsPolicy, CredentialPolicy } from '../policy/index.ts'
import { securityHeaders } from '../middleware/security-headers/index.ts'

/** What a handler may use of the platform's per-request context (Netlify passes one to every function). */
export interface PlatformContext {
  readonly deploy?: { readonly context?: string; readonly published?: boolean }
}

/** A request handler, as Netlify's edge and Node runtimes, Deno and Workers call it. */
export type Fetch = (request: Request, context?: PlatformContext) => Response | Promise<Response>

/**
 * Builds a handler from a checked environment; throws (or rejects with) a `ConfigError` naming every bad variable.
 * It may be async, so a builder can import what only some environments need (the provider config reader).
 */
export type HandlerBuilder = (env: Env, log: Logger) => Fetch | Promise<Fetch>

export interface ApiOptions<P extends CredentialPolicy = ChannelsPolicy> extends AppDeps<P> {
  /** The optional settings these routes read (see `ApiSetting`); all of them by default. */
  settings?: readonly ApiSetting[]
}

/**
 * A builder for the API app serving `routes`, for `lazyHandler` and `handlerPerEnv`. It reads the config with
 * `loadConfig`: the provider reader is imported only when a provider variable is set.
 */
export function apiHandler<P extends CredentialPolicy = ChannelsPolicy>({ settings = ALL_API_SETTINGS, ...deps }: ApiOptions<P>): HandlerBuilder {
  return async (env, log) => {
    const app = createApp(await loadConfig(env, settings), { log, ...deps })
    // Not `app.fetch` itself: Hono would take the platform's context for its `env` bindings.
    return (request) => app.fetch(request)
  }
}

/**
 * The entry-file API of a serverless door: reads the environment and builds the handler on the first request, once
 * per isolate, and keeps it. A bad environment gets a handler that answers every request with the generic JSON 500
 * `internal_error` and logs one `config_error` line naming every bad variable (see `configErrorHandler`).
 */
export function lazyHandler(
  readEnv: () => Env,
  build: HandlerBuilder,
  { log = jsonLineLogger }: { log?: Logger } = {},
): (request: Request, context?: PlatformContext) => Promise<Response> {
  // Requests that arrive while the first one builds wait for the same build; a build that failed for another reason
  // than the config is forgotten, so the next request builds again.
  const handler = loadOnce(() => handlerOrConfigError(readEnv(), build, log))
  return async (request, context) => (await handler())(request, context)
}

/** A request handler that takes its environment with each request, as Cloudflare Workers hand it over. */
export type EnvFetch = (request: Request, env: object) => Promise<Response>

/** Like `lazyHandler`, for hosts whose environment arrives with each request: one handler per env object. */
export function handlerPerEnv(build: HandlerBuilder, { log = jsonLineLogger }: { log?: Logger } = {}): EnvFetch {
  const handlers = new WeakMap<object, () => Promise<Fetch>>()
  return async (request, env) => {
    let handler = handlers.get(env)
    if (handler === undefined) {
      handler = loadOnce(() => handlerOrConfigError(stringValues(env), build, log))
      handlers.set(env, handler)
    }
    return (await handler())(request)
  }
}

/** The handler `build` makes, or the config-error handler when it throws a `ConfigError`; any other error rejects. */
async function handlerOrConfigError(env: Env, build: HandlerBuilder, log: Logger): Promise<Fetch> {
  try {
    return await build(env, log)
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
