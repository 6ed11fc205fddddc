/** What every door does with its runtime's environment: check it once, build the app, answer requests. */
import { requestId } from 'hono/request-id'
import { Hono } from 'hono/tiny'
import { createApp, renderError, type AppDeps } from './app.ts'
import type { AppEnv } from './app-env.ts'
import { ConfigError, parseConfig, type Env } from './config/index.ts'
import { AppError } from './errors/index.ts'
import { jsonLineLogger, type Logger } from './log/index.ts'
import { securityHeaders } from './middleware/security-headers/index.ts'

/** The app for `env`; throws the `ConfigError` naming every bad variable, so a host fails closed at start. */
export function appFromEnv(env: Env, deps: AppDeps): Hono<AppEnv> {
  return createApp(parseConfig(env), deps)
}

/** A request handler that takes its environment with each request, as Cloudflare Workers hand it over. */
export type EnvFetch = (request: Request, env: object) => Promise<Response>

/**
 * For hosts whose environment arrives only with a request: builds the app once per env object, on first use.
 * A bad environment gets an app that answers every request with the generic 500 and logs the `ConfigError`.
 */
export function appPerEnv(deps: AppDeps): EnvFetch {
  const apps = new WeakMap<object, Hono<AppEnv>>()
  return async function fetchWithEnv(request, env) {
    let app = apps.get(env)
    if (app === undefined) {
      app = appOrConfigErrorApp(stringValues(env), deps)
      apps.set(env, app)
    }
    return app.fetch(request)
  }
}

function appOrConfigErrorApp(env: Env, deps: AppDeps): Hono<AppEnv> {
  try {
    return appFromEnv(env, deps)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    return configErrorApp(error, deps.log ?? jsonLineLogger)
  }
}

// Logged on every request, not once, so the fix shows beside whichever failing request someone is looking at.
function configErrorApp(error: ConfigError, log: Logger): Hono<AppEnv> {
  return new Hono<AppEnv>().use(requestId(), securityHeaders()).all('*', (c) => {
    log({ level: 'error', msg: 'config_error', requestId: c.get('requestId'), problems: error.problems })
    return renderError(c, new AppError('internal_error', { reason: 'config_error' }))
  })
}

// Workers bindings mix strings with KV namespaces, queues and the like; only the strings are configuration.
function stringValues(env: object): Env {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === 'string'))
}
