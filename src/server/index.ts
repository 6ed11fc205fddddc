/**
 * Server helpers for any Node server holding the Ably API key (see `helpers.ts`).
 *
 *   import { publishMessage } from './src/server/index.ts'
 *   await publishMessage(userId, contactId, { contactId, userId, phoneNumberId, message, direction: 'inbound', timestamp })
 *
 * The bare functions use one default set of helpers, built from `process.env` on first use (thin defaults over
 * `serverHelpersFromEnv`, as the original `ablyServer` singleton was). The default helpers also run the outbox
 * sweeper every 30 s in this process, so what it queued while Ably was unreachable still goes out. Build your own
 * with `createServerHelpers` to choose the store, the Ably port or the sweeper.
 */
import { serverHelpersFromEnv, type ServerHelpers } from './helpers.ts'

export * from './helpers.ts'

const DEFAULT_SWEEP_INTERVAL_MS = 30_000
let fallback: ServerHelpers | undefined

/** The default helpers: `process.env` is read, and the sweeper started, on the first call. */
export function defaultHelpers(): ServerHelpers {
  if (!fallback) {
    fallback = serverHelpersFromEnv(process.env)
    fallback.startSweeper(DEFAULT_SWEEP_INTERVAL_MS)
  }
  return fallback
}

export const publish: ServerHelpers['publish'] = (...args) => defaultHelpers().publish(...args)
export const publishMessage: ServerHelpers['publishMessage'] = (...args) => defaultHelpers().publishMessage(...args)
export const publishMessageStatus: ServerHelpers['publishMessageStatus'] = (...args) => defaultHelpers().publishMessageStatus(...args)
export const broadcastContactUpdate: ServerHelpers['broadcastContactUpdate'] = (...args) => defaultHelpers().broadcastContactUpdate(...args)
export const publishIncomingSms: ServerHelpers['publishIncomingSms'] = (...args) => defaultHelpers().publishIncomingSms(...args)
export const publishPhoneNumberAssignment: ServerHelpers['publishPhoneNumberAssignment'] = (...args) => defaultHelpers().publishPhoneNumberAssignment(...args)
export const publishNotification: ServerHelpers['publishNotification'] = (...args) => defaultHelpers().publishNotification(...args)
export const publishBatch: ServerHelpers['publishBatch'] = (...args) => defaultHelpers().publishBatch(...args)
export const isOnline: ServerHelpers['isOnline'] = (...args) => defaultHelpers().isOnline(...args)
