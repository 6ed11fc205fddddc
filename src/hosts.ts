/** What every door does with its runtime's environment: check it once, build the app, answer requests. */
import type { Hono } from 'hono'
import { createApp, type AppDeps } from './app.ts'
import type { AppEnv } from './app-env.ts'
import { ConfigError, parseConfig, type Env } from './config/index.ts'
import { AppError } from './errors/index.ts'
import { jsonLineLogger } from './log/index.ts'

/** The app for `env`; throws the `ConfigError` naming every bad variable, so a host fails closed at start. */
export function appFromEnv(env: Env, deps: AppDeps = {}): Hono<AppEnv> {
  return createApp(parseConfig(env), deps)
}

/** A request handler that takes its environment with each request, as Cloudflare Workers hand it over. */
export type EnvFetch = (request: Request, env: object) => Promise<Response>

/**
 * For hosts whose environment arrives only with a request: builds the app once per env object, on first use.
 * A bad environment answers every request with a generic 500 and logs the `ConfigError` each time, so the fix
 * shows in the logs of whichever request someone is looking at.
 */
export function appPerEnv(deps: AppDeps = {}): EnvFetch {
  const { log = jsonLineLogger } = deps
  const apps = new WeakMap<object, Hono<AppEnv> | ConfigError>()
  return async function fetchWithEnv(request, env) {
    let app = apps.get(env)
    if (app === undefined) {
      app = buildOrConfigError(stringValues(env), deps)
      apps.set(env, app)
    }
    if (!(app instanceof ConfigError)) return app.fetch(request)
    const requestId = crypto.randomUUID()
    const error = new AppError('internal_error')
    log({ level: 'error', msg: 'config_error', requestId, problems: app.problems })
    return Response.json(
      { error: error.message, code: error.code, requestId },
      { status: error.status, headers: { 'Cache-Control': 'no-store', 'X-Request-Id': requestId } },
    )
  }
}

function buildOrConfigError(env: Env, deps: AppDeps): Hono<AppEnv> | ConfigError {
  try {
    return appFromEnv(env, deps)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
}

// Workers bindings mix strings with KV namespaces, queues and the like; only the strings are configuration.
function stringValues(env: object): Env {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === 'string'))
}
