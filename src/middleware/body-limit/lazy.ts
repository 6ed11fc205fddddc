/**
 * `bodyLimit`, imported only for a request that may carry a body: a token request from ably-js (`authUrl`) or from
 * our client has none, so an edge isolate that serves only the token route seldom evaluates the limit's code. It
 * decides from the headers with `bodyLimit`'s own test (`headersSayNoBody`).
 */
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../../app-env.ts'
import { loadOnce } from '../../lazy/index.ts'
import { headersSayNoBody } from './no-body.ts'

export function lazyBodyLimit(maxBytes: number): MiddlewareHandler<AppEnv> {
  const limit = loadOnce(() => import('./index.ts').then((module) => module.bodyLimit(maxBytes)))
  return async function bodyLimit(c, next) {
    if (headersSayNoBody(c)) return next()
    return (await limit())(c, next)
  }
}
