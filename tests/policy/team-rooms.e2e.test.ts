/**
 * The team chat's member-bound rooms end to end: memberships from the app JWT's `teams` claim (JWT_MEMBERSHIP_CLAIM),
 * tokens, the real SDK, the gateway and history; and a member of many teams, whose capability is too large for an
 * Ably JWT, connecting through a TokenRequest the browser client hands to ably-js.
 */
import '../client/node-websocket.ts'
import type * as Ably from 'ably'
import { SignJWT } from 'jose'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createPolicyService, type PolicyAblyService } from '../../src/client/index.ts'
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

async function appJwt(userId: string, teams: string[] = []) {
  const iat = Math.floor(Date.now() / 1000)
  return new SignJWT({ userId, role: 'member', teams }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt(iat).setExpirationTime(iat + 3600).sign(new TextEncoder().encode(TEST_JWT_SECRET))
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
  expect(await service.connect(token)).toBe('connected')
  return service
}

const message = (teamId: string, text: string) => ({ teamId, roomId: 'general', authorId: 'alice', text, sentAt: '2026-01-01T00:00:00Z' })

describe('team rooms, by membership', () => {
  it('a token grants each team’s rooms from the membership claim, and nothing of other teams', async () => {
    const body = (await (await api('token', await appJwt('alice', ['t1', 't2']))).json()) as { capability: Record<string, string[]> }
    expect(body.capability).toEqual({
      'team:t1:*': ['history', 'presence', 'subscribe'],
      'team:t2:*': ['history', 'presence', 'subscribe'],
      'mentions:alice': ['history', 'subscribe'],
      announcements: ['history', 'subscribe'],
    })
  })

  it('members publish in their teams’ rooms through the gateway and receive each other’s messages; others are refused', async () => {
    const bob = await connect(await appJwt('bob', ['t1']))
    const texts: string[] = []
    bob.subscribe('room', { teamId: 't1', roomId: 'general' }, (received) => {
      if (received.name === 'message') texts.push(received.data.text)
    })
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect((await api('publish', await appJwt('alice', ['t1']), { channelName: 'team:t1:general', eventName: 'message', data: message('t1', 'hello') })).status).toBe(200)
    await expect.poll(() => texts, { timeout: 5000 }).toEqual(['hello'])
    // Not a member of t1; and a payload naming another team than the channel's.
    expect((await api('publish', await appJwt('carol', ['t2']), { channelName: 'team:t1:general', eventName: 'message', data: message('t1', 'x') })).status).toBe(403)
    const mismatch = await api('publish', await appJwt('alice', ['t1']), { channelName: 'team:t1:general', eventName: 'message', data: message('t2', 'x') })
    expect(await mismatch.json()).toMatchObject({ code: 'invalid_payload', details: { issues: [{ path: 'teamId' }] } })
    // History follows membership.
    expect((await api('history?channelName=team:t1:general', await appJwt('bob', ['t1']))).status).toBe(200)
    expect((await api('history?channelName=team:t1:general', await appJwt('carol', ['t2']))).status).toBe(403)
    // The real SDK cannot attach to another team's room.
    const carol = await connect(await appJwt('carol', ['t2']))
    const refused = await (carol.realtime as unknown as Ably.Realtime).channels.get('team:t1:general').attach().then(() => 0, (error: Ably.ErrorInfo) => error.code)
    expect(refused).toBe(40160)
  })

  it('a member of many teams connects through a TokenRequest, with every team’s rooms and no other', async () => {
    const teams = Array.from({ length: 100 }, (_, index) => `squad-${String(index).padStart(4, '0')}`)
    const token = await appJwt('dave', teams)
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
    expect((await api('publish', await appJwt('erin', [teamId]), { channelName: `team:${teamId}:general`, eventName: 'message', data: message(teamId, 'many') })).status).toBe(200)
    await expect.poll(() => texts, { timeout: 5000 }).toEqual(['many'])
    const refused = await (dave.realtime as unknown as Ably.Realtime).channels.get('team:t9:general').attach().then(() => 0, (error: Ably.ErrorInfo) => error.code)
    expect(refused).toBe(40160)
  })
})
