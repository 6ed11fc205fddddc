/**
 * The README's `ably/react` example ("With `ably/react`"), as an app would write it: plain ably-js with the client's
 * `createTokenAuth`, `AblyProvider`, `ChannelProvider` and `useChannel`. Bundled by tests/browser/react.test.ts.
 */
import * as Ably from 'ably'
import { AblyProvider, ChannelProvider, useChannel } from 'ably/react'
import { useState } from 'react'
import { createRoot } from 'react-dom/client'
import { createTokenAuth } from '../../../src/client/index.ts'

const params = new URLSearchParams(location.search)
const userId = params.get('userId') ?? ''
const contactId = 'c1'
const session = { currentJwt: () => params.get('jwt') }

const { authCallback } = createTokenAuth({ getAppToken: () => session.currentJwt() })
// The local hub instead of Ably's endpoint: the only line the README's example does not have.
const client = new Ably.Realtime({ authCallback, endpoint: 'localhost', port: Number(params.get('hubPort')), tls: false })

function Thread() {
  const [messages, setMessages] = useState<{ id: string; text: string }[]>([])
  useChannel(`sms:${userId}:${contactId}`, 'message', (message) =>
    setMessages((shown) => [...shown, { id: String(message.id), text: (message.data as { message: string }).message }]),
  )
  return (
    <ul id="messages">
      {messages.map(({ id, text }) => (
        <li key={id}>{text}</li>
      ))}
    </ul>
  )
}

createRoot(document.getElementById('root') as HTMLElement).render(
  <AblyProvider client={client}>
    <ChannelProvider channelName={`sms:${userId}:${contactId}`}>
      <Thread />
    </ChannelProvider>
  </AblyProvider>,
)
