/** The local Ably-compatible hub: `createHub()` and the types it takes and returns. */
export { createHub, type Hub, type HubOptions } from './hub.ts'
export type { HubKey } from './auth.ts'
export type { Capability } from './capability.ts'
