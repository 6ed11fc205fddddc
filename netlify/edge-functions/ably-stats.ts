/** Netlify Edge Function for `/api/ably/stats`. The config is checked at load: a bad secret stops the function. */
import type { Config } from '@netlify/edge-functions'
import { appFromEnv } from '../../src/hosts.ts'
import { statsRoutes } from '../../src/routes/stats.ts'

const app = appFromEnv(Netlify.env.toObject(), { routes: [statsRoutes] })

export default (request: Request) => app.fetch(request)

export const config: Config = { path: '/api/ably/stats', method: ['GET', 'OPTIONS'] }
