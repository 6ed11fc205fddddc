/**
 * The default Ably REST port, loaded on its first call: an app whose routes never call Ably's REST API (the token
 * edge function: it signs Ably JWTs locally) never evaluates the port (about 1.5 KB gzip at the edge).
 */
import { loadOnce } from '../lazy/index.ts'
import type { AblyRest, AblyRevoke, FetchAblyRestOptions } from './index.ts'

/** `createFetchAblyRest(options)`, imported and built on the first call of any method, then reused. */
export function lazyAblyRest(options: FetchAblyRestOptions): AblyRest & AblyRevoke {
  const port = loadOnce(() => import('./index.ts').then(({ createFetchAblyRest }) => createFetchAblyRest(options)))
  return {
    time: async (...args) => (await port()).time(...args),
    channelStatus: async (...args) => (await port()).channelStatus(...args),
    publish: async (...args) => (await port()).publish(...args),
    batchPublish: async (...args) => (await port()).batchPublish(...args),
    batchPresence: async (...args) => (await port()).batchPresence(...args),
    revokeTokens: async (...args) => (await port()).revokeTokens(...args),
  }
}
