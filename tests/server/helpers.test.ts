/** Server helpers: the gateway's validation, idempotency, store and retries, for a trusted Node server. */
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/config/index.ts'
import type { MessageData } from '../../src/channels/schemas.ts'
import { AppError } from '../../src/errors/index.ts'
import { parseGatewayConfig } from '../../src/gateway/config.ts'
import { createServerHelpers, serverHelpersFromEnv, type BatchItem } from '../../src/server/helpers.ts'
import { createMemoryStore } from '../../src/store/memory.ts'
import { NOW, TEST_ABLY_KEY } from '../support/fixtures.ts'
import { ably400, faultyStore, scriptedAbly, smsMessage } from '../gateway/support.ts'

function server(ably = scriptedAbly(), store = createMemoryStore({ now: () => NOW })) {
  const publisher = createServerHelpers({ ably: ably.port, store, config: parseGatewayConfig({}), log: () => {}, now: () => NOW, sleep: async () => {} })
  return { publisher, ably, store }
}

/** The original API's `message`, typed as the helpers take it. */
const sms = (userId: string, contactId: string): MessageData => ({ ...smsMessage(userId, contactId), direction: 'inbound' })

const codeOf = async (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof AppError ? error.code : String(error)),
  )

describe('server helpers', () => {
  it('publishMessage sends `message` to the conversation, persisted, with the message id as Ably’s id', async () => {
    const { publisher, ably, store } = server()
    const result = await publisher.publishMessage('alice', 'c1', sms('alice', 'c1'))
    expect(result).toEqual({
      success: true,
      status: 'published',
      channelName: 'sms:alice:c1',
      messageId: expect.any(String),
      timestamp: new Date(NOW).toISOString(),
      replayed: false,
    })
    expect(ably.delivered).toEqual([{ channel: 'sms:alice:c1', message: { id: result.messageId, name: 'message', data: smsMessage('alice', 'c1') } }])
    expect((await store.findByIds([result.messageId]))[0]).toMatchObject({ status: 'published', publisherId: 'server' })
  })

  it('each helper targets its channel and event', async () => {
    const { publisher, ably } = server()
    await publisher.publishMessageStatus('alice', 'c1', { messageId: 'm1', status: 'sent', timestamp: '2024-01-15T10:30:00Z' })
    await publisher.broadcastContactUpdate('alice', { action: 'add', contact: { id: 'c9', name: 'Bob' } })
    await publisher.publishIncomingSms('alice', { phoneNumberId: 'p1', from: '+15550100', message: 'hi', timestamp: '2024-01-15T10:30:00Z' })
    await publisher.publishPhoneNumberAssignment('alice', { phoneNumberId: 'p1', phoneNumber: '+15550100', action: 'assigned' })
    await publisher.publishNotification('alice', { type: 'info', message: 'hello', timestamp: '2024-01-15T10:30:00Z' })
    expect(ably.delivered.map(({ channel, message }) => `${channel} ${message.name}`)).toEqual([
      'sms:alice:c1 message_status',
      'contacts:alice update',
      'notifications:alice sms_received',
      'notifications:alice phone_number_assignment',
      'notifications:alice update',
    ])
  })

  it('refuses what the gateway refuses, with the same codes', async () => {
    const { publisher, ably } = server()
    expect(await codeOf(publisher.publishMessage('alice', 'c1', sms('bob', 'c1')))).toBe('invalid_payload')
    expect(await codeOf(publisher.publishMessage('*', 'c1', sms('*', 'c1')))).toBe('invalid_channel')
    expect(await codeOf(publisher.publish('contacts:alice', 'message', {}))).toBe('invalid_event')
    expect(await codeOf(publisher.publishNotification('alice', { type: 'x', message: 'y'.repeat(70_000), timestamp: '2024-01-15T10:30:00Z' }))).toBe(
      'payload_too_large',
    )
    expect(await codeOf(publisher.publish('contacts:alice', 'update', { action: 'refresh' }, { idempotencyKey: 'has space' }))).toBe('invalid_request')
    expect(ably.requests).toBe(0)
  })

  it('is idempotent by key: a repeat replays and publishes nothing new', async () => {
    const { publisher, ably } = server()
    const first = await publisher.broadcastContactUpdate('alice', { action: 'refresh' }, { idempotencyKey: 'sync-42' })
    const again = await publisher.broadcastContactUpdate('alice', { action: 'refresh' }, { idempotencyKey: 'sync-42' })
    expect(again).toEqual({ ...first, replayed: true })
    expect(ably.requests).toBe(1)
    expect(await codeOf(publisher.broadcastContactUpdate('bob', { action: 'refresh' }, { idempotencyKey: 'sync-42' }))).toBe('idempotency_mismatch')
  })

  it('queues while Ably is unreachable and the sweep delivers it', async () => {
    const { publisher, ably } = server()
    ably.state.down = true
    const result = await publisher.publishNotification('alice', { type: 'info', message: 'hello', timestamp: '2024-01-15T10:30:00Z' })
    expect(result.status).toBe('queued')
    ably.state.down = false
    expect(await publisher.sweep()).toMatchObject({ published: 1 })
    expect(ably.delivered.map((entry) => entry.message.id)).toEqual([result.messageId])
  })

  it('an Ably 4xx throws publish_rejected; a store that is down throws store_unavailable and publishes nothing', async () => {
    expect(
      await codeOf(server(scriptedAbly([ably400()])).publisher.publishNotification('alice', { type: 'i', message: 'm', timestamp: '2024-01-15T10:30:00Z' })),
    ).toBe('publish_rejected')
    const faulty = faultyStore()
    faulty.state.failing.add('*')
    const { publisher, ably } = server(scriptedAbly(), faulty.store)
    expect(await codeOf(publisher.broadcastContactUpdate('alice', { action: 'refresh' }))).toBe('store_unavailable')
    expect(ably.requests).toBe(0)
  })

  it('publishBatch sends one Ably request per batch of at most 64 KiB and reports each message', async () => {
    const { publisher, ably } = server()
    const items: BatchItem[] = Array.from({ length: 20 }, (_, n) => ({
      channelName: `sms:alice:c${n % 3}`,
      eventName: 'message',
      data: smsMessage('alice', `c${n % 3}`, { message: `${n} ${'x'.repeat(10_000)}` }),
    }))
    const results = await publisher.publishBatch(items)
    expect(results.map((result) => result.status)).toEqual(Array(20).fill('published'))
    // Twenty ~10.2 KB messages, six to a 64 KiB request: four requests.
    expect(ably.requests).toBe(4)
    expect(ably.delivered.map((entry) => entry.message.id)).toEqual(results.map((result) => result.messageId))
  })

  it('publishBatch reports a message Ably refused as failed, beside the others', async () => {
    const ably = scriptedAbly()
    const { publisher } = server(ably)
    const originalBatch = ably.port.batchPublish
    ably.port.batchPublish = async (specs, options) => {
      const results = await originalBatch(specs, options)
      return results.map((result, index) => (index === 1 ? { channel: result.channel, error: ably400() } : result))
    }
    const results = await publisher.publishBatch([
      { channelName: 'contacts:alice', eventName: 'update', data: { action: 'refresh' } },
      { channelName: 'contacts:bob', eventName: 'update', data: { action: 'refresh' } },
    ])
    expect(results.map((result) => [result.success, result.status])).toEqual([
      [true, 'published'],
      [false, 'failed'],
    ])
  })

  it('serverHelpersFromEnv uses the Ably port and store it is given, and builds neither (nor needs ABLY_API_KEY)', async () => {
    const ably = scriptedAbly()
    const store = createMemoryStore({ now: () => NOW })
    const publisher = serverHelpersFromEnv({}, { ably: ably.port, store, log: () => {}, now: () => NOW })
    const result = await publisher.broadcastContactUpdate('alice', { action: 'refresh' })
    expect(ably.delivered.map((entry) => entry.message.id)).toEqual([result.messageId])
    expect((await store.findByIds([result.messageId]))[0]?.status).toBe('published')
  })

  it('serverHelpersFromEnv needs the API key but no JWT secret', () => {
    expect(() => serverHelpersFromEnv({})).toThrow(ConfigError)
    const publisher = serverHelpersFromEnv({ ABLY_API_KEY: TEST_ABLY_KEY, ABLY_REST_URL: 'http://127.0.0.1:9' }, { log: () => {} })
    expect(typeof publisher.publishMessage).toBe('function')
  })
})
