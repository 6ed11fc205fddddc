/**
 * The local Ably-compatible hub: `createHub()` and the types it takes and returns. Point an unmodified
 * ably-js at it with `{ endpoint: 'localhost', port: hub.port, tls: false }` (JSON or MessagePack).
 */
export { createHub, type Hub, type HubOptions } from './hub.ts'
export type { HubKey } from './auth.ts'
export type { Capability } from './capability.ts'
