/**
 * Server helpers for any Node server holding the Ably API key (see `publisher.ts`).
 *
 *   import { publishMessage } from './src/server/index.ts'
 *   await publishMessage(userId, contactId, { contactId, userId, phoneNumberId, message, direction: 'inbound', timestamp })
 *
 * The bare functions use one default publisher, built from `process.env` on first use (thin defaults over
 * `serverPublisherFromEnv`, as the original `ablyServer` singleton was). The default publisher also runs the outbox
 * sweeper every 30 s in this process, so what it queued while Ably was unreachable still goes out. Build your own
 * with `createServerPublisher` to choose the store, the Ably port or the sweeper.
 */
import { serverPublisherFromEnv, type ServerPublisher } from './publisher.ts'

export * from './publisher.ts'

const DEFAULT_SWEEP_INTERVAL_MS = 30_000
let fallback: ServerPublisher | undefined

/** The default publisher: `process.env` is read, and the sweeper started, on the first call. */
export function defaultPublisher(): ServerPublisher {
  if (!fallback) {
    fallback = serverPublisherFromEnv(process.env)
    fallback.startSweeper(DEFAULT_SWEEP_INTERVAL_MS)
  }
  return fallback
}

export const publish: ServerPublisher['publish'] = (...args) => defaultPublisher().publish(...args)
export const publishMessage: ServerPublisher['publishMessage'] = (...args) => defaultPublisher().publishMessage(...args)
export const publishMessageStatus: ServerPublisher['publishMessageStatus'] = (...args) => defaultPublisher().publishMessageStatus(...args)
export const broadcastContactUpdate: ServerPublisher['broadcastContactUpdate'] = (...args) => defaultPublisher().broadcastContactUpdate(...args)
export const publishIncomingSms: ServerPublisher['publishIncomingSms'] = (...args) => defaultPublisher().publishIncomingSms(...args)
export const publishPhoneNumberAssignment: ServerPublisher['publishPhoneNumberAssignment'] = (...args) => defaultPublisher().publishPhoneNumberAssignment(...args)
export const publishNotification: ServerPublisher['publishNotification'] = (...args) => defaultPublisher().publishNotification(...args)
export const publishBatch: ServerPublisher['publishBatch'] = (...args) => defaultPublisher().publishBatch(...args)
