/** The one renderer of the error vocabulary for the API's Hono apps. */
import type { Context } from 'hono'
import type { AppEnv } from '../app-env.ts'
import type { ErrorBody } from '../contract/index.ts'
import type { AppError } from './index.ts'

/** Renders an error as `{ error, code, requestId, details? }` with its status and headers, and notes it for the request log. */
export function renderError(c: Context<AppEnv>, error: AppError): Response {
  c.set('failure', { code: error.code, ...(error.reason !== undefined && { reason: error.reason }) })
  for (const [name, value] of Object.entries(error.headers)) c.header(name, value)
  const body: ErrorBody = { error: error.message, code: error.code, requestId: c.get('requestId'), ...(error.details !== undefined && { details: error.details }) }
  return c.json(body, error.status)
}
