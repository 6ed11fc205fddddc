/** Netlify Function (Node) for `POST /api/ably/publish`. The config is checked at load; MongoDB is required. */
import type { Config } from '@netlify/functions'
import { nodeGatewayFromEnv } from '../../src/gateway/node.ts'

const { app } = nodeGatewayFromEnv(process.env, { requireDurableStore: true })

export default (request: Request) => app.fetch(request)

// The platform's rate limit is the first line of defence, per IP; the gateway then limits per user.
export const config: Config = {
  path: '/api/ably/publish',
  method: ['POST', 'OPTIONS'],
  rateLimit: { windowLimit: 120, windowSize: 60, aggregateBy: ['ip', 'domain'] },
}
