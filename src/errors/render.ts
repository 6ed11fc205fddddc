/** The one renderer of the error vocabulary for the API's Hono apps. */
import type { Context } from 'hono'
import type { AppEnv } from '../app-env.ts'
import type { ErrorBody } from '../contract/index.ts'
import type { AppError } from './index.ts'

/**
 * Renders an error as `{ error, code, requestId, details? }` with its status and headers, and notes it for the
 * request log. The media type carries `charset=utf-8`: ably-js on Node reads a bare `application/json` error body as
 * an Ably error, whose `error` field ours is not, and would lose the status (a 403 from the token route would be
 * retried).
 */
export function renderError(c: Context<AppEnv>, error: AppError): Response {
  c.set('failure', { code: error.code, ...(error.reason !== undefined && { reason: error.reason }) })
  for (const [name, value] of Object.entries(error.headers)) c.header(name, value)
  const { details } = error
  const body: ErrorBody = { error: error.message, code: error.code, requestId: c.get('requestId'), ...(details !== undefined && { details }) }
  return c.body(JSON.stringify(body), error.status, { 'Content-Type': 'application/json; charset=utf-8' })
}
