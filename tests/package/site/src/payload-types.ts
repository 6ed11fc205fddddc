/**
 * Type-only: the payload types a site gets through the package's declarations are the ones inferred from the policies'
 * schemas, not widened to `any` on the way through `.d.ts`. Each line below must be an error, or tsc fails the site.
 */
import type { ConversationEvent, PolicyChannelEvent } from 'ably-netlify-integration/client'
import type { MessageData } from 'ably-netlify-integration/channels/schemas'
import type { board } from './policy.js'

// @ts-expect-error: an SMS inbox message has no `body` (its schema in the package's own policy)
export type NoBody = MessageData['body']
// @ts-expect-error: `direction` is 'inbound' | 'outbound'
export const direction: ConversationEvent['data']['direction'] = 'sideways'
// @ts-expect-error: the site's own board card has no `body` either (its schema in ./policy.ts)
export type NoCardBody = PolicyChannelEvent<(typeof board)['declaration'], 'board'>['data']['body']
