/** Netlify Function (Node) for `/api/ably/history`, read from the message store; config checked on the first request. */
import type { Config } from '@netlify/functions'
import { historyFunction } from '../../src/wiring/node-gateway.ts'
import { lazyHandler } from '../../src/wiring/handlers.ts'

export default lazyHandler(() => process.env, historyFunction)

// A literal, because Netlify reads it without running the file; it must match NETLIFY_FUNCTIONS (src/deploy/functions.ts).
export const config: Config = {
  path: '/api/ably/history',
  rateLimit: { windowLimit: 300, windowSize: 60, aggregateBy: ['ip', 'domain'] },
}
