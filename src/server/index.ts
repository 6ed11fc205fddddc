/**
 * Server helpers for any Node server holding the Ably API key (see `helpers.ts`).
 *
 *   import { publishMessage } from 'ably-netlify-integration/server'
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

/** The default helpers: `process.env` is read, and the sweeper started, on the first call (a bad variable rejects that call). */
export function defaultHelpers(): ServerHelpers {
  if (!fallback) {
    fallback = serverHelpersFromEnv(process.env)
    fallback.startSweeper(DEFAULT_SWEEP_INTERVAL_MS)
  }
  return fallback
}

export const publish: ServerHelpers['publish'] = async (...args) => defaultHelpers().publish(...args)
export const publishMessage: ServerHelpers['publishMessage'] = async (...args) => defaultHelpers().publishMessage(...args)
export const publishMessageStatus: ServerHelpers['publishMessageStatus'] = async (...args) => defaultHelpers().publishMessageStatus(...args)
export const broadcastContactUpdate: ServerHelpers['broadcastContactUpdate'] = async (...args) => defaultHelpers().broadcastContactUpdate(...args)
export const publishIncomingSms: ServerHelpers['publishIncomingSms'] = async (...args) => defaultHelpers().publishIncomingSms(...args)
export const publishPhoneNumberAssignment: ServerHelpers['publishPhoneNumberAssignment'] = async (...args) =>
  defaultHelpers().publishPhoneNumberAssignment(...args)
export const publishNotification: ServerHelpers['publishNotification'] = async (...args) => defaultHelpers().publishNotification(...args)
export const publishBatch: ServerHelpers['publishBatch'] = async (...args) => defaultHelpers().publishBatch(...args)
export const isOnline: ServerHelpers['isOnline'] = async (...args) => defaultHelpers().isOnline(...args)

/**
 * The old guide's `ablyServer` (`import ablyServer from '@/server/ably'`): the same default helpers as one object, with
 * the guide's `publishMessage(userId, contactId, data)`, `broadcastContactUpdate(userId, data)` and
 * `publishPhoneNumberAssignment(userId, data)`. Importing it reads no environment and opens nothing; the first call does.
 *
 * No `publishWithRetry` is needed around them (the guide advised one): each call already retries Ably with backoff
 * within its delivery budget, and what Ably still cannot take is stored and resolves `status: 'queued'`, sent later
 * by the outbox sweeper. A retry of your own would only publish twice unless you pass the same `idempotencyKey`.
 */
const ablyServer = {
  publish,
  publishMessage,
  publishMessageStatus,
  broadcastContactUpdate,
  publishIncomingSms,
  publishPhoneNumberAssignment,
  publishNotification,
  publishBatch,
  isOnline,
} as const satisfies Partial<ServerHelpers>
export default ablyServer
