/** The server helpers of any policy: typed publishing by kind and segments, checked by the gateway as a trusted server. */
import { describe, expect, it } from 'vitest'
import type { AppError } from '../../src/errors/index.ts'
import { parseGatewayConfig } from '../../src/gateway/config.ts'
import { createPolicyServerHelpers, policyHelpersFor, serverHelpersFor } from '../../src/server/helpers.ts'
import { createGateway } from '../../src/gateway/index.ts'
import { createMemoryStore } from '../../src/store/memory.ts'
import { NOW } from '../support/fixtures.ts'
import { scriptedAbly } from '../gateway/support.ts'
import { teamChat } from '../policy/team-chat.ts'

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: AppError) => ({ code: error.code, details: error.details }),
  )

describe('policy server helpers', () => {
  const ably = scriptedAbly()
  const server = createPolicyServerHelpers({
    policy: teamChat,
    ably: ably.port,
    store: createMemoryStore({ now: () => NOW }),
    config: parseGatewayConfig({}),
    log: () => {},
    now: () => NOW,
    sleep: async () => {},
  })

  it('publish by kind and segments, to the channel the policy names', async () => {
    const room = server.channel('room', { teamId: 't1', roomId: 'general' })
    expect(room.name).toBe('team:t1:general')
    const result = await room.publish('message', { teamId: 't1', roomId: 'general', authorId: 'alice', text: 'hi', sentAt: '2026-01-01T00:00:00Z' })
    expect(result).toMatchObject({ success: true, status: 'published', channelName: 'team:t1:general' })
    await server.channel('announcements', {}).publish('announcement', { title: 'T', body: 'B', sentAt: '2026-01-01T00:00:00Z' })
    expect(ably.delivered.map(({ channel, message }) => `${channel} ${message.name}`)).toEqual(['team:t1:general message', 'announcements announcement'])
  })

  it('refuses what the policy refuses: a segment outside its alphabet, a payload id naming another channel', async () => {
    expect(
      await refusal(server.channel('mentions', { userId: 'a:b' }).publish('mention', { teamId: 't', roomId: 'r', messageId: 'm', by: 'x' })),
    ).toMatchObject({
      code: 'invalid_channel',
      details: { acceptedChannels: ['team:{teamId}:{roomId}', 'mentions:{userId}', 'announcements'] },
    })
    expect(
      await refusal(
        server
          .channel('room', { teamId: 't1', roomId: 'general' })
          .publish('message', { teamId: 't2', roomId: 'general', authorId: 'a', text: 'x', sentAt: '2026-01-01T00:00:00Z' }),
      ),
    ).toMatchObject({
      code: 'invalid_payload',
      details: { issues: [{ path: 'teamId' }] },
    })
  })

  it('will not pair a gateway with another policy’s helpers', () => {
    const gateway = createGateway({ store: createMemoryStore({ now: () => NOW }), config: parseGatewayConfig({}), ably: ably.port, log: () => {} })
    expect(() => policyHelpersFor(gateway, teamChat)).toThrow(TypeError)
    expect(() => serverHelpersFor(gateway, ably.port)).not.toThrow()
  })
})
