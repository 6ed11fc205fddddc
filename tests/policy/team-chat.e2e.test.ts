/**
 * The team chat policy end to end: tokens from /api/ably/token, the real `ably` SDK against the local hub, the gateway
 * (who may publish what), history, and the server helpers -- all derived from `teamChat`. Memberships come from the
 * app JWT's `teams` claim (JWT_MEMBERSHIP_CLAIM); a member of many teams connects through a TokenRequest.
 */
import '../client/node-websocket.ts'
import type * as Ably from 'ably'
import { SignJWT } from 'jose'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createPolicyService, type PolicyAblyService } from '../../src/client/index.ts'
import { policyHelpersFor } from '../../src/server/helpers.ts'
import { startClientStack, type ClientStack } from '../client/support.ts'
import { TEST_JWT_SECRET } from '../support/fixtures.ts'
import { teamChat, type TeamChat } from './team-chat.ts'

let stack: ClientStack
const closers: (() => void)[] = []

beforeAll(async () => {
  stack = await startClientStack({}, { policy: teamChat, env: { ABLY_ADMIN_ROLES: 'admin', JWT_MEMBERSHIP_CLAIM: '/teams' } })
})
afterEach(() => {
  for (const close of closers.splice(0)) close()
})
afterAll(() => stack.close())

/** An app JWT as the host app's login would sign it: a role, and the user's teams in the `teams` claim. */
async function appJwt(userId: string, { role = 'member', teams = [] as string[] } = {}) {
  const iat = Math.floor(Date.now() / 1000)
  return new SignJWT({ userId, role, teams })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(iat)
    .setExpirationTime(iat + 3600)
    .sign(new TextEncoder().encode(TEST_JWT_SECRET))
}

const api = (path: string, token: string, body?: unknown) =>
  fetch(`${stack.url}/api/ably/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { Authorization: `Bearer ${token}`, ...(body !== undefined && { 'Content-Type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  })

async function connect(token: string): Promise<PolicyAblyService<TeamChat>> {
  const service = createPolicyService(teamChat, { tokenUrl: `${stack.url}/api/ably/token`, ably: stack.ably })
  closers.push(() => service.disconnect())
  expect(await service.connect(token)).toBe(true)
  expect(service.state).toBe('connected')
  return service
}

const announcement = { title: 'Release', body: 'v2 is out', sentAt: '2026-01-01T00:00:00Z' }

describe('team chat, end to end', () => {
  it('a token holds the user’s mentions and the announcements, read-only', async () => {
    const res = await api('token', await appJwt('alice'))
    const body = (await res.json()) as { capability: Record<string, string[]> }
    expect(body.capability).toMatchObject({ 'mentions:alice': ['history', 'subscribe'], announcements: ['history', 'subscribe'] })
    expect(Object.values(body.capability).flat()).not.toContain('publish')
  })

  it('admins publish announcements through the gateway, members may not, and subscribers get them typed', async () => {
    const alice = await connect(await appJwt('alice'))
    const received: { name: string; title: string }[] = []
    alice.subscribe('announcements', {}, (message) => received.push({ name: message.name, title: message.data.title }))
    // Attached before anything is published.
    await new Promise((resolve) => setTimeout(resolve, 300))

    expect((await api('publish', await appJwt('alice'), { channelName: 'announcements', eventName: 'announcement', data: announcement })).status).toBe(403)
    const ok = await api('publish', await appJwt('root', { role: 'admin' }), { channelName: 'announcements', eventName: 'announcement', data: announcement })
    expect(ok.status).toBe(200)
    await expect.poll(() => received, { timeout: 5000 }).toEqual([{ name: 'announcement', title: 'Release' }])

    // An event the kind does not have, and a payload its schema refuses, with what would have been valid.
    const wrongEvent = await api('publish', await appJwt('root', { role: 'admin' }), { channelName: 'announcements', eventName: 'message', data: announcement })
    expect(await wrongEvent.json()).toMatchObject({ code: 'invalid_event', details: { acceptedEvents: { announcements: ['announcement'] } } })
    const wrongChannel = await api('publish', await appJwt('root', { role: 'admin' }), {
      channelName: 'sms:alice:c1',
      eventName: 'announcement',
      data: announcement,
    })
    expect(await wrongChannel.json()).toMatchObject({
      code: 'invalid_channel',
      details: { acceptedChannels: ['team:{teamId}:{roomId}', 'mentions:{userId}', 'announcements'] },
    })
  })

  it('history: anyone reads the announcements, only the owner their mentions', async () => {
    expect(
      (await api('publish', await appJwt('root', { role: 'admin' }), { channelName: 'announcements', eventName: 'announcement', data: announcement })).status,
    ).toBe(200)
    const history = await api('history?channelName=announcements', await appJwt('bob'))
    expect(history.status).toBe(200)
    expect(((await history.json()) as { messages: { name: string }[] }).messages.map((message) => message.name)).toContain('announcement')
    expect((await api('history?channelName=mentions:alice', await appJwt('bob'))).status).toBe(403)
    expect((await api('history?channelName=mentions:alice', await appJwt('alice'))).status).toBe(200)
  })

  it('servers publish mentions with the policy’s helpers; the real SDK cannot attach to another user’s mentions', async () => {
    const alice = await connect(await appJwt('alice'))
    const mentions: string[] = []
    alice.subscribe('mentions', { userId: 'alice' }, (message) => mentions.push(message.data.by))
    await new Promise((resolve) => setTimeout(resolve, 300))
    const server = policyHelpersFor(stack.gateway, teamChat)
    const result = await server.channel('mentions', { userId: 'alice' }).publish('mention', { teamId: 't1', roomId: 'general', messageId: 'm1', by: 'bob' })
    expect(result.status).toBe('published')
    await expect.poll(() => mentions, { timeout: 5000 }).toEqual(['bob'])
    // Only servers publish mentions: not even the owner.
    expect(
      (
        await api('publish', await appJwt('alice'), {
          channelName: 'mentions:alice',
          eventName: 'mention',
          data: { teamId: 't1', roomId: 'general', messageId: 'm2', by: 'alice' },
        })
      ).status,
    ).toBe(403)

    const realtime = alice.realtime as unknown as Ably.Realtime
    await expect(realtime.channels.get('mentions:bob').attach()).rejects.toMatchObject({ code: 40160 })
  })
})

const message = (teamId: string, text: string) => ({ teamId, roomId: 'general', authorId: 'alice', text, sentAt: '2026-01-01T00:00:00Z' })

describe('team rooms, by membership', () => {
  it('a token grants each team’s rooms from the membership claim, and nothing of other teams', async () => {
    const body = (await (await api('token', await appJwt('alice', { teams: ['t1', 't2'] }))).json()) as { capability: Record<string, string[]> }
    expect(body.capability).toEqual({
      'team:t1:*': ['history', 'presence', 'subscribe'],
      'team:t2:*': ['history', 'presence', 'subscribe'],
      'mentions:alice': ['history', 'subscribe'],
      announcements: ['history', 'subscribe'],
    })
  })

  it('members publish in their teams’ rooms through the gateway and receive each other’s messages; others are refused', async () => {
    const bob = await connect(await appJwt('bob', { teams: ['t1'] }))
    const texts: string[] = []
    bob.subscribe('room', { teamId: 't1', roomId: 'general' }, (received) => {
      if (received.name === 'message') texts.push(received.data.text)
    })
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(
      (await api('publish', await appJwt('alice', { teams: ['t1'] }), { channelName: 'team:t1:general', eventName: 'message', data: message('t1', 'hello') }))
        .status,
    ).toBe(200)
    await expect.poll(() => texts, { timeout: 5000 }).toEqual(['hello'])
    // Not a member of t1; and a payload naming another team than the channel's.
    expect(
      (await api('publish', await appJwt('carol', { teams: ['t2'] }), { channelName: 'team:t1:general', eventName: 'message', data: message('t1', 'x') }))
        .status,
    ).toBe(403)
    const mismatch = await api('publish', await appJwt('alice', { teams: ['t1'] }), {
      channelName: 'team:t1:general',
      eventName: 'message',
      data: message('t2', 'x'),
    })
    expect(await mismatch.json()).toMatchObject({ code: 'invalid_payload', details: { issues: [{ path: 'teamId' }] } })
    // History follows membership.
    expect((await api('history?channelName=team:t1:general', await appJwt('bob', { teams: ['t1'] }))).status).toBe(200)
    expect((await api('history?channelName=team:t1:general', await appJwt('carol', { teams: ['t2'] }))).status).toBe(403)
    // The real SDK cannot attach to another team's room.
    const carol = await connect(await appJwt('carol', { teams: ['t2'] }))
    await expect((carol.realtime as unknown as Ably.Realtime).channels.get('team:t1:general').attach()).rejects.toMatchObject({ code: 40160 })
  })

  it('a member of many teams connects through a TokenRequest, with every team’s rooms and no other', async () => {
    const teams = Array.from({ length: 100 }, (_, index) => `squad-${String(index).padStart(4, '0')}`)
    const token = await appJwt('dave', { teams })
    const body = (await (await api('token', token)).json()) as Record<string, unknown>
    expect(body).toHaveProperty('tokenRequest')
    expect(body).not.toHaveProperty('token')
    const dave = await connect(token)
    const texts: string[] = []
    dave.subscribe('room', { teamId: teams[99] as string, roomId: 'general' }, (received) => {
      if (received.name === 'message') texts.push(received.data.text)
    })
    await new Promise((resolve) => setTimeout(resolve, 300))
    const teamId = teams[99] as string
    expect(
      (
        await api('publish', await appJwt('erin', { teams: [teamId] }), {
          channelName: `team:${teamId}:general`,
          eventName: 'message',
          data: message(teamId, 'many'),
        })
      ).status,
    ).toBe(200)
    await expect.poll(() => texts, { timeout: 5000 }).toEqual(['many'])
    await expect((dave.realtime as unknown as Ably.Realtime).channels.get('team:t9:general').attach()).rejects.toMatchObject({ code: 40160 })
  })
})
