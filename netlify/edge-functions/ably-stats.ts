/** Netlify Edge Function for `/api/ably/stats`. The config is read and checked on the first request, not at import. */
import type { Config } from '@netlify/edge-functions'
import { ABLY_STATS, edgeFunctionConfig } from '../../src/deploy/functions.ts'
import { apiHandler, lazyHandler } from '../../src/wiring/handlers.ts'
import { statsRoutes } from '../../src/routes/stats.ts'

export default lazyHandler(() => Netlify.env.toObject(), apiHandler({ routes: [statsRoutes], settings: ['restUrl', 'adminRoles'] }))

export const config: Config = edgeFunctionConfig(ABLY_STATS)
