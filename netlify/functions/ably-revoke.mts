/** Netlify Function (Node) for `POST /api/ably/revoke` (log out); config checked on the first request. */
import type { Config } from '@netlify/functions'
import { revokeFunction } from '../../src/wiring/revocation.ts'
import { lazyHandler } from '../../src/wiring/handlers.ts'

export default lazyHandler(() => process.env, revokeFunction)

// A literal, because Netlify reads it without running the file; it must match NETLIFY_FUNCTIONS (src/deploy/functions.ts).
export const config: Config = {
  path: '/api/ably/revoke',
  rateLimit: { windowLimit: 30, windowSize: 60, aggregateBy: ['ip', 'domain'] },
}
