/** Netlify Edge Function for `/api/ably/token`. The config is checked at load: a bad secret stops the function. */
import type { Config } from '@netlify/edge-functions'
import { appFromEnv } from '../../src/hosts.ts'
import { tokenRoutes } from '../../src/routes/token.ts'

const app = appFromEnv(Netlify.env.toObject(), { routes: [tokenRoutes] })

export default (request: Request) => app.fetch(request)

export const config: Config = { path: '/api/ably/token', method: ['GET', 'POST', 'OPTIONS'] }
