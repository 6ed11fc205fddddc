/** `invalid_channel` and `invalid_event` say what would have been valid (issue 11, friction), on every route. */
import { describe, expect, it } from 'vitest'
import { appToken, bearer, testApp } from '../support/fixtures.ts'
import { gatewayApp, smsMessage } from '../gateway/support.ts'

const ACCEPTED_CHANNELS = { acceptedChannels: ['sms:{userId}:{contactId}', 'contacts:{userId}', 'notifications:{userId}'], idPattern: '^[A-Za-z0-9_-]{1,64}$' }
const ACCEPTED_EVENTS = {
  acceptedEvents: {
    'sms:{userId}:{contactId}': ['message', 'message_status'],
    'contacts:{userId}': ['update'],
    'notifications:{userId}': ['sms_received', 'phone_number_assignment', 'update'],
  },
}

async function publish(body: unknown) {
  const { app } = gatewayApp()
  const res = await app.request('/api/ably/publish', {
    method: 'POST',
    headers: { ...bearer(await appToken()), 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

describe('what would have been valid', () => {
  it('invalid_channel on publish lists the channel forms and the id pattern', async () => {
    expect(await publish({ channelName: 'sms:alice', eventName: 'message', data: smsMessage() })).toMatchObject({
      status: 400,
      body: { code: 'invalid_channel', details: ACCEPTED_CHANNELS },
    })
  })

  it('invalid_event on publish lists the events of each channel form, beside the batch index', async () => {
    const messages = [
      { channelName: 'sms:alice:c1', eventName: 'message', data: smsMessage() },
      { channelName: 'contacts:alice', eventName: 'message', data: smsMessage() },
    ]
    expect(await publish({ messages })).toMatchObject({ status: 400, body: { code: 'invalid_event', details: { index: 1, ...ACCEPTED_EVENTS } } })
  })

  it('invalid_channel on history and stats too', async () => {
    const { app } = gatewayApp()
    const history = await app.request('/api/ably/history?channelName=sms:alice:*', { headers: bearer(await appToken()) })
    expect(await history.json()).toMatchObject({ code: 'invalid_channel', details: ACCEPTED_CHANNELS })
    const stats = await testApp().app.request('/api/ably/stats?channelName=sms:*:c1', { headers: bearer(await appToken({ role: 'admin' })) })
    expect(await stats.json()).toMatchObject({ code: 'invalid_channel', details: ACCEPTED_CHANNELS })
  })
})
