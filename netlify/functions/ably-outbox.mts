/**
 * Netlify Scheduled Function: every minute, republishes what is still pending in the outbox. It reads only the Ably
 * key and the store, so a bad JWT_SECRET or CORS_ORIGIN never stops it. Scheduled functions run on published deploys
 * only, never on Deploy Previews or branch deploys.
 */
import type { Config } from '@netlify/functions'
import { outboxFunction } from '../../src/wiring/node-gateway.ts'
import { lazyHandler } from '../../src/wiring/handlers.ts'

export default lazyHandler(() => process.env, outboxFunction)

// A literal, because Netlify reads it without running the file; it must match NETLIFY_FUNCTIONS (src/deploy/functions.ts).
export const config: Config = { schedule: '* * * * *' }
