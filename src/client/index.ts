/**
 * The browser client. `createAblyService(options)` builds one; `ablyService` is a default over `/api/ably/token`
 * for apps served from the same origin as the API.
 *
 *   ablyService.connect(appJwt)
 *   const stop = ablyService.subscribeToConversation(contactId, userId, (message) => render(message.data))
 */
import { createAblyService } from './service.ts'

export { createAblyService, createPolicyService } from './service.ts'
export type {
  PolicyAblyService,
  PolicyChannelEvent,
  AblyConnectionOptions,
  AblyService,
  AblyServiceOptions,
  ChannelEvent,
  ContactsEvent,
  ConversationEvent,
  NotificationEvent,
  ServiceState,
  ServiceStateChange,
  SignOutResult,
  Unsubscribe,
} from './service.ts'
export type { ChannelMessage, ClientLogEvent, Timers } from './feed.ts'
export {
  createTokenAuth,
  TOKEN_REQUEST_FAILED_CODE,
  TokenRequestError,
  UNAUTHORIZED_CODE,
  type AppTokenGetter,
  type AuthCallback,
  type TokenAuth,
  type TokenAuthOptions,
} from './token-auth.ts'
export { fetchHistory, HistoryError, type HistoryClient, type HistoryItem, type HistoryRequest, type HistoryResponse } from './history.ts'

/** The default service: token endpoint `/api/ably/token` on the page's origin, app JWT given to `connect()`. */
export const ablyService = createAblyService()
