/** Netlify Function (Node) for `/api/ably/publish`. The config is read and checked on the first request; MongoDB is required. */
import type { Config } from '@netlify/functions'
import { publishFunction } from '../../src/wiring/node-gateway.ts'
import { lazyHandler } from '../../src/wiring/handlers.ts'

export default lazyHandler(() => process.env, publishFunction)

// A literal, because Netlify reads it without running the file; it must match NETLIFY_FUNCTIONS (src/deploy/functions.ts).
// The platform's rate limit is the first line of defence, per IP; the gateway then limits per user.
export const config: Config = {
  path: '/api/ably/publish',
  rateLimit: { windowLimit: 120, windowSize: 60, aggregateBy: ['ip', 'domain'] },
}
