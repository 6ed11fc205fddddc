/** The site's browser code: the old guide's default import, a subscription, and what arrived, for the test to read. */
import ablyService, { createAblyService, type ConversationEvent } from 'ably-netlify-integration/client'
import { conversationChannel } from 'ably-netlify-integration/channels'

const params = new URLSearchParams(location.search)
const userId = params.get('userId') ?? ''
// The default service talks to Ably itself; against the local hub the site builds one with the hub's address.
const service = createAblyService({ ably: { endpoint: 'localhost', port: Number(params.get('hubPort')), tls: false } })
const received: ConversationEvent[] = []
service.subscribeToConversation('c1', userId, (message) => received.push(message))
const connected: boolean = await service.connect(params.get('jwt') ?? undefined)

Object.assign(window, { consumer: { connected, state: service.state, channel: conversationChannel(userId, 'c1'), defaultState: ablyService.state, received } })
