/** Netlify Function (Node) for `/api/ably/health`: the store, the outbox and Ably; config checked on the first request. */
import type { Config } from '@netlify/functions'
import { healthFunction } from '../../src/wiring/node-gateway.ts'
import { lazyHandler } from '../../src/wiring/handlers.ts'

export default lazyHandler(() => process.env, healthFunction)

// A literal, because Netlify reads it without running the file; it must match NETLIFY_FUNCTIONS (src/deploy/functions.ts).
export const config: Config = {
  path: '/api/ably/health',
  rateLimit: { windowLimit: 60, windowSize: 60, aggregateBy: ['ip', 'domain'] },
}
