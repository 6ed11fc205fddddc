/** Netlify Function (Node) for `GET /api/ably/history`, read from the message store. */
import type { Config } from '@netlify/functions'
import { nodeGatewayFromEnv } from '../../src/gateway/node.ts'

const { app } = nodeGatewayFromEnv(process.env, { requireDurableStore: true })

export default (request: Request) => app.fetch(request)

export const config: Config = {
  path: '/api/ably/history',
  method: ['GET', 'OPTIONS'],
  rateLimit: { windowLimit: 300, windowSize: 60, aggregateBy: ['ip', 'domain'] },
}
