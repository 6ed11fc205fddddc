/** Netlify Edge Function for `/api/ably/presence` (admin roles only). The config is read and checked on the first request, not at import. */
import type { Config } from '@netlify/edge-functions'
import { ABLY_PRESENCE, edgeFunctionConfig } from '../../src/deploy/functions.ts'
import { apiHandler, lazyHandler } from '../../src/wiring/handlers.ts'
import { presenceRoutes } from '../../src/routes/presence.ts'

export default lazyHandler(() => Netlify.env.toObject(), apiHandler({ routes: [presenceRoutes], settings: ['restUrl', 'adminRoles'] }))

export const config: Config = edgeFunctionConfig(ABLY_PRESENCE)
