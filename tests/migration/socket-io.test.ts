import { describe, expect, it } from 'vitest'
import { AppError } from '../../src/errors/index.ts'
import { parseGatewayConfig } from '../../src/gateway/config.ts'
import { createSocketIoCompat } from '../../src/migration/socket-io.ts'
import { createServerHelpers } from '../../src/server/helpers.ts'
import { createMemoryStore } from '../../src/store/memory.ts'
import { scriptedAbly, smsMessage } from '../gateway/support.ts'

// The compat over the real server helpers, with a scripted Ably port that records what reaches Ably.
function compat() {
  const ably = scriptedAbly()
  const publisher = createServerHelpers({ ably: ably.port, store: createMemoryStore(), config: parseGatewayConfig({}), log: () => {}, sleep: async () => {} })
  return { io: createSocketIoCompat(publisher), ably }
}

describe('the Socket.IO compat', () => {
  it('follows the original mapping: new_message → message on sms:{user}:{contact}, contact_updated → update on contacts:{user}', async () => {
    const { io, ably } = compat()
    const sent = await io.to('user:123').emit('new_message', smsMessage('123', 'c7'))
    await io.in('user:123').emit('contact_updated', { action: 'refresh' })

    expect(sent).toMatchObject({ success: true, status: 'published', channelName: 'sms:123:c7' })
    expect(ably.delivered.map(({ channel, message }) => [channel, message.name, message.id])).toEqual([
      ['sms:123:c7', 'message', sent.messageId],
      ['contacts:123', 'update', expect.any(String)],
    ])
  })

  it.each([
    ['an unknown event', () => compat().io.to('user:123').emit('typing', {})],
    ['new_message without a contactId', () => compat().io.to('user:123').emit('new_message', { message: 'hi' })],
    ['an inherited property as the event', () => compat().io.to('user:123').emit('toString', {})],
  ])('rejects %s with a TypeError', async (_case, emit) => {
    await expect(emit()).rejects.toBeInstanceOf(TypeError)
  })

  it.each(['room:123', 'user:', 'user:a:b', 'user:*'])('refuses the room %j with a TypeError', (room) => {
    expect(() => compat().io.to(room)).toThrow(TypeError)
  })

  it('rejects data the gateway refuses, with its code, and publishes nothing', async () => {
    const { io, ably } = compat()
    const refused = io.to('user:123').emit('new_message', smsMessage('456', 'c7'))
    await expect(refused).rejects.toBeInstanceOf(AppError)
    await expect(refused).rejects.toMatchObject({ code: 'invalid_payload' })
    expect(ably.requests).toBe(0)
  })
})
