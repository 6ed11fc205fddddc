/** The data schema of every event: strict, ids in the channel grammar, and ids that agree with the channel. */
import { describe, expect, it } from 'vitest'
import { channelEvents, parseChannel, type Channel } from '../../src/channels/index.ts'
import { eventSchemas, parseEventData } from '../../src/channels/schemas.ts'

const samples: Record<string, [channel: string, data: Record<string, unknown>]> = {
  'sms/message': [
    'sms:alice:c1',
    {
      contactId: 'c1',
      userId: 'alice',
      phoneNumberId: 'p1',
      message: 'Hello!',
      direction: 'inbound',
      timestamp: '2024-01-15T10:30:00.000Z',
      from: '+1234567890',
      to: '+0987654321',
    },
  ],
  'sms/message_status': ['sms:alice:c1', { messageId: 'SM123', status: 'delivered', timestamp: '2024-01-15T10:30:00Z' }],
  'contacts/update': ['contacts:alice', { action: 'update', contact: { id: 'c1', name: 'Bob', phoneNumber: '+15550100', unreadCount: 2 } }],
  'notifications/sms_received': [
    'notifications:alice',
    { phoneNumberId: 'p1', from: '+15550100', message: 'hi', timestamp: '2024-01-15T10:30:00+02:00', preview: 'hi' },
  ],
  'notifications/phone_number_assignment': ['notifications:alice', { phoneNumberId: 'p1', phoneNumber: '+15550100', action: 'unassigned' }],
  'notifications/update': [
    'notifications:alice',
    { type: 'billing', title: 'Heads up', message: 'Your plan renews tomorrow', timestamp: '2024-01-15T10:30:00Z' },
  ],
}

const channelOf = (name: string) => parseChannel(name) as Channel

describe('event schemas', () => {
  it('cover exactly the events of the channel table', () => {
    for (const [kind, events] of Object.entries(channelEvents)) {
      expect(Object.keys(eventSchemas[kind as keyof typeof eventSchemas]).sort()).toEqual([...events].sort())
      for (const event of events) expect(samples[`${kind}/${event}`]).toBeDefined()
    }
  })

  it.each(Object.entries(samples))('%s: the sample parses unchanged', (key, [channel, data]) => {
    const event = key.split('/')[1] as string
    expect(parseEventData(channelOf(channel), event, data)).toEqual({ ok: true, data })
  })

  it.each(Object.entries(samples))('%s: an unknown field is refused', (key, [channel, data]) => {
    const event = key.split('/')[1] as string
    const result = parseEventData(channelOf(channel), event, { ...data, extra: 1 })
    expect(result.ok).toBe(false)
  })

  it('the original `message` keeps from/to optional', () => {
    const [channel, { from: _from, to: _to, ...data }] = samples['sms/message'] as [string, Record<string, unknown>]
    expect(parseEventData(channelOf(channel), 'message', data).ok).toBe(true)
  })

  it.each([
    ['userId of another user', { userId: 'bob' }, 'userId'],
    ['contactId of another conversation', { contactId: 'c2' }, 'contactId'],
    ['a Cyrillic userId', { userId: 'аlice' }, 'userId'],
    ['a userId with a space', { userId: 'alice ' }, 'userId'],
    ['a date without a time', { timestamp: '2024-01-15' }, 'timestamp'],
    ['a number as message', { message: 42 }, 'message'],
  ])('message with %s is refused at %s', (_name, change, path) => {
    const [channel, data] = samples['sms/message'] as [string, Record<string, unknown>]
    const result = parseEventData(channelOf(channel), 'message', { ...data, ...change })
    expect(result).toEqual({ ok: false, issues: [expect.objectContaining({ path })] })
  })

  it('a contact update needs a contact unless it is a refresh, and a contact’s userId must be the channel’s', () => {
    const channel = channelOf('contacts:alice')
    expect(parseEventData(channel, 'update', { action: 'refresh' }).ok).toBe(true)
    expect(parseEventData(channel, 'update', { action: 'add' }).ok).toBe(false)
    expect(parseEventData(channel, 'update', { action: 'refresh', contact: { id: 'c1' } }).ok).toBe(false)
    expect(parseEventData(channel, 'update', { action: 'add', contact: { id: 'c1', userId: 'bob' } })).toEqual({
      ok: false,
      issues: [expect.objectContaining({ path: 'contact.userId' })],
    })
    expect(parseEventData(channel, 'update', { action: 'add', contact: { id: 'c1', userId: 'alice' } }).ok).toBe(true)
  })

  it('an event without a schema on that channel kind is refused, prototype names included', () => {
    for (const event of ['message', '__proto__', 'constructor', 'toString']) expect(parseEventData(channelOf('contacts:alice'), event, {}).ok).toBe(false)
  })
})
