/**
 * Cloudflare Workers entry (module syntax). `env` only arrives with a request, so the app is built on the first
 * one and kept per env object; a bad config answers a logged 500 (see `handlerPerEnv`).
 */
import { apiHandler, handlerPerEnv } from '../src/wiring/handlers.ts'
import { edgeRoutes } from '../src/routes/index.ts'

const fetchWithEnv = handlerPerEnv(apiHandler({ routes: edgeRoutes }))

export default { fetch: (request: Request, env: object) => fetchWithEnv(request, env) }
