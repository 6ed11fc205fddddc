/** One JSON log line per request: method, path, status, duration, requestId, userId when known, and the error code. */
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../../app-env.ts'
import type { Logger } from '../../log/index.ts'

export interface RequestLogOptions {
  log: Logger
  now?: () => number
}

export function requestLog({ log, now = () => performance.now() }: RequestLogOptions): MiddlewareHandler<AppEnv> {
  return async function requestLog(c, next) {
    const started = now()
    await next()
    const failure = c.get('failure')
    log({
      level: c.res.status >= 500 ? 'error' : c.res.status >= 400 ? 'warn' : 'info',
      msg: 'request',
      method: c.req.method,
      // The path only: a query string may carry what a caller should not have put there.
      path: c.req.path,
      status: c.res.status,
      durationMs: Math.round((now() - started) * 100) / 100,
      requestId: c.get('requestId'),
      userId: c.get('caller')?.userId,
      ...(failure && { code: failure.code, reason: failure.reason }),
    })
  }
}
