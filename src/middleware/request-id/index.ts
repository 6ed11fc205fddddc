/**
 * The request id every response carries (`X-Request-Id`) and every error body names: an incoming well-formed id is
 * kept (up to 64 characters), else a fresh UUID. One definition for the API and the local stack's site.
 */
import type { MiddlewareHandler } from 'hono'
import { requestId } from 'hono/request-id'

export const requestIds = (): MiddlewareHandler => requestId({ limitLength: 64, generator: () => crypto.randomUUID() })
