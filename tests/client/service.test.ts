import './node-websocket.ts'
import { afterAll, afterEach, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import {
  createAblyService,
  type AblyService,
  type AblyServiceOptions,
  type ChannelMessage,
  type ConversationEvent,
  type ServiceStateChange,
  type Timers,
} from '../../src/client/index.ts'
import type { MessageData, MessageStatusData } from '../../src/channels/schemas.ts'
import { countingFetch, sms, startClientStack, until, type ClientStack } from './support.ts'

// The client from src/client, with the modular ably-js build it ships with, against the hub and the gateway.
let stack: ClientStack
const services: AblyService[] = []

beforeAll(async () => {
  stack = await startClientStack()
})
afterAll(() => stack?.close())
afterEach(() => {
  for (const service of services.splice(0)) service.disconnect()
})

/** A service against `on` (the shared stack by default), counting its token requests; disconnected after the test. */
function service(options: AblyServiceOptions = {}, on: ClientStack = stack): AblyService & { tokenRequests(): number } {
  const counter = countingFetch()
  const created = createAblyService({ tokenUrl: `${on.url}/api/ably/token`, ably: on.ably, fetch: counter.fetch, ...options })
  services.push(created)
  return Object.assign(created, { tokenRequests: () => counter.count('/api/ably/token') })
}

/** A service for `userId`, connected, with its conversation with c1 subscribed and attached. */
async function inConversation(userId: string, { on = stack, options = {} }: { on?: ClientStack; options?: AblyServiceOptions } = {}) {
  const client = service(options, on)
  const received: ConversationEvent[] = []
  const stop = client.subscribeToConversation('c1', userId, (message) => received.push(message))
  const token = await on.mint(userId)
  const state = await client.connect(token)
  await until(() => client.realtime?.channels.get(`sms:${userId}:c1`).state === 'attached', 'the attach')
  return { client, received, stop, token, state }
}

const ids = (messages: ChannelMessage[]) => messages.map((message) => message.id)

describe('the browser client', () => {
  it('delivers what the gateway publishes, live and once, with the gateway message id', async () => {
    const { client: alice, received, token, state } = await inConversation('alice')
    expect(state).toBe('connected')

    const first = await stack.publish(token, 'sms:alice:c1', 'message', sms('alice', 'c1', 'one'))
    const second = await stack.publish(token, 'sms:alice:c1', 'message', sms('alice', 'c1', 'two'))
    await until(() => received.length >= 2, 'two messages')

    expect(ids(received)).toEqual([first.body.messageId, second.body.messageId])
    expect(received[0]).toMatchObject({ name: 'message', channelName: 'sms:alice:c1', source: 'live', data: sms('alice', 'c1', 'one') })
    expect(alice.tokenRequests()).toBe(1)
  })

  it('routes each event to the subscription of its channel only, typed by the event table', async () => {
    const bob = service()
    const got: Record<string, string[]> = { conversation: [], contacts: [], notifications: [] }
    bob.subscribeToConversation('c2', 'bob', (message) => {
      if (message.name === 'message_status') expectTypeOf(message.data).toEqualTypeOf<MessageStatusData>()
      else expectTypeOf(message.data).toEqualTypeOf<MessageData>()
      got.conversation?.push(message.name)
    })
    bob.subscribeToContactUpdates('bob', (message) => got.contacts?.push(message.name))
    bob.subscribeToNotifications('bob', (message) => got.notifications?.push(message.name))
    const token = await stack.mint('bob')
    await bob.connect(token)
    await until(
      () => ['sms:bob:c2', 'contacts:bob', 'notifications:bob'].every((name) => bob.realtime?.channels.get(name).state === 'attached'),
      'three attaches',
    )

    const now = new Date().toISOString()
    await stack.publish(token, 'sms:bob:c2', 'message_status', { messageId: 'm1', status: 'delivered', timestamp: now })
    await stack.publish(token, 'contacts:bob', 'update', { action: 'refresh' })
    await stack.publish(token, 'notifications:bob', 'update', { type: 'notice', message: 'hello', timestamp: now })
    await until(() => Object.values(got).every((names) => names.length === 1), 'one event per channel')

    expect(got).toEqual({ conversation: ['message_status'], contacts: ['update'], notifications: ['update'] })
  })

  it('gives every subscriber each message once; the last unsubscribe detaches the channel', async () => {
    const { client: carol, received: first, stop: stopFirst, token } = await inConversation('carol')
    const second: ChannelMessage[] = []
    const stopSecond = carol.subscribeToConversation('c1', 'carol', (message) => second.push(message))
    const channel = carol.realtime!.channels.get('sms:carol:c1')

    await stack.publish(token, 'sms:carol:c1', 'message', sms('carol', 'c1', 'to both'))
    await until(() => first.length === 1 && second.length === 1, 'both subscribers')
    stopFirst()
    stopFirst()
    const last = await stack.publish(token, 'sms:carol:c1', 'message', sms('carol', 'c1', 'to the second'))
    await until(() => second.length === 2, 'the second subscriber')
    expect(ids(first)).toHaveLength(1)
    expect(second[1]?.id).toBe(last.body.messageId)
    expect(channel.state).toBe('attached')

    stopSecond()
    await until(() => channel.state === 'detached', 'the detach')
  })

  it('keeps one token request in flight at a time', async () => {
    const token = await stack.mint('dave')
    const dave = service()
    await dave.connect(token)
    const before = dave.tokenRequests()
    const tokens = await Promise.all([dave.auth.requestToken(), dave.auth.requestToken(), dave.auth.requestToken()])
    expect(new Set(tokens.map((details) => details.token)).size).toBe(1)
    expect(dave.tokenRequests() - before).toBe(1)
  })

  it.each([
    ['while connected', false],
    ['after being offline as the prompt came due', true],
  ])("renews the token before it expires, in place, on Ably's prompt alone: %s", async (_case, offline) => {
    // The hub's clock jumps to where a prompt is due; the gateway's keeps real time, so each new token is issued now,
    // and the app session (two hours) outlives them.
    let ahead = 0
    // Connection state outlives the jump, so a resume across it keeps the connection.
    const clocked = await startClientStack({ now: () => Date.now() + ahead, sweepIntervalMs: 50, connectionStateTtlMs: 2 * 3_600_000 })
    try {
      const tokens: { issued: number; expires: number }[] = []
      const fetch: typeof globalThis.fetch = async (input, init) => {
        const res = await globalThis.fetch(input, init)
        if (String(input).endsWith('/api/ably/token')) tokens.push(await res.clone().json())
        return res
      }
      // No timer of the service's own takes part.
      const scheduled: number[] = []
      const timers: Timers = { setTimeout: (_run, ms) => scheduled.push(ms), clearTimeout: () => {} }
      const erin = service({ fetch, timers }, clocked)
      await erin.connect(await clocked.mint('erin', 7200))
      const connectionId = erin.realtime?.connection.id
      const [{ issued, expires }] = tokens as [{ issued: number; expires: number }]
      const states: string[] = []
      // The tokens fetched by the moment the connection (re)opens: a prompt due then is answered only after it.
      const tokensAtConnected: number[] = []
      erin.onConnectionStateChange(({ current }) => {
        states.push(current)
        if (current === 'connected') tokensAtConnected.push(tokens.length)
      })
      // Tokens carry whole seconds: from two seconds on, a new one outlives this one by two.
      await until(() => Date.now() >= issued + 2000, 'a later token')

      const hubTime = (at: number) => (ahead = at - Date.now())
      if (offline) {
        await clocked.hub.close()
        await until(() => erin.state === 'disconnected', 'the loss')
      }
      // Ably prompts 30 s before expiry; the hub too. A prompt that came due while the client was away is sent on
      // its resume, so the renewal may already be under way when the test sees the resumed connection: the count
      // that matters is the one at the moment it resumed.
      hubTime(expires - 29_000)
      if (offline) {
        await clocked.hub.listen()
        await until(() => erin.state === 'connected', 'the resume')
        expect([erin.realtime?.connection.id, tokensAtConnected]).toEqual([connectionId, [1]])
        states.length = 0
      }
      await until(() => tokens.length >= 2, 'the renewal')
      expect(tokens.at(-1)?.expires).toBeGreaterThan(expires)
      // Past the first token's expiry: the hub would have disconnected a connection still using it.
      hubTime(expires + 500)
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(erin.state).toBe('connected')
      expect(erin.realtime?.connection.id).toBe(connectionId)
      expect(states).toEqual([])
      expect(scheduled).toEqual([])
    } finally {
      await clocked.close()
    }
  })

  it('stops at unauthorized after one request when the token endpoint refuses the session, and starts again on a new one', async () => {
    const frank = service()
    const changes: ServiceStateChange[] = []
    frank.onConnectionStateChange((change) => changes.push(change))
    const expired = await stack.mint('frank', -60)

    expect(await frank.connect(expired)).toBe('unauthorized')
    expect(changes.at(-1)).toMatchObject({ current: 'unauthorized', previous: 'connecting', reason: { statusCode: 403 } })
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect(frank.tokenRequests()).toBe(1)
    expect(frank.state).toBe('unauthorized')

    expect(await frank.connect(await stack.mint('frank'))).toBe('connected')
    expect(frank.tokenRequests()).toBe(2)
  })

  it("a new session after disconnect() does not join the old session's token request", async () => {
    let session: string | undefined = await stack.mint('alice')
    let release = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    let held = true
    const switched = service({
      getAppToken: () => session,
      fetch: async (input, init) => {
        if (held && String(input).endsWith('/api/ably/token')) {
          held = false
          await gate
        }
        return globalThis.fetch(input, init)
      },
    })
    const first = switched.connect()
    await until(() => !held, 'the first token request')
    switched.disconnect()
    session = await stack.mint('bob')
    const second = switched.connect()
    release()
    expect([await first, await second]).toEqual(['closed', 'connected'])
    expect(switched.realtime?.auth.clientId).toBe('bob')
  })

  it('connect() twice in a row builds one client, also right after disconnect(), and disconnect() settles it', async () => {
    const zed = service()
    await zed.connect(await stack.mint('zed'))
    zed.disconnect()
    const first = zed.connect()
    const client = zed.realtime
    const second = zed.connect()
    expect(zed.realtime).toBe(client)
    expect([await first, await second]).toEqual(['connected', 'connected'])
    expect(zed.tokenRequests()).toBe(2)

    zed.disconnect()
    const abandoned = zed.connect()
    zed.disconnect()
    expect(await Promise.race([abandoned, new Promise((resolve) => setTimeout(resolve, 2000, 'still pending'))])).toBe('closed')
  })

  it('asks for nothing when there is no app session', async () => {
    const loggedOut = service({ getAppToken: () => null })
    expect(await loggedOut.connect()).toBe('unauthorized')
    expect(loggedOut.tokenRequests()).toBe(0)
  })

  it('asks getAppToken before each token request, so a refreshed session is used', async () => {
    let session: string | undefined = await stack.mint('gina')
    const gina = service({ getAppToken: () => session })
    expect(await gina.connect()).toBe('connected')
    session = undefined
    await expect(gina.auth.requestToken()).rejects.toMatchObject({ statusCode: 403 })
    expect(gina.tokenRequests()).toBe(1)
  })
})

describe('recovery', () => {
  it('backfills what a loss of continuity missed from the gateway: once each, oldest first', async () => {
    // The hub keeps one message per channel, so a resume after three cannot be continuous.
    const small = await startClientStack({ historyLimit: 1 })
    try {
      const { received, token } = await inConversation('hank', { on: small, options: { ably: { ...small.ably, disconnectedRetryTimeout: 1500 } } })
      const first = await small.publish(token, 'sms:hank:c1', 'message', sms('hank', 'c1', 'before'))
      await until(() => received.length === 1, 'the first message')

      await small.hub.close()
      const missed = []
      for (const text of ['gap 1', 'gap 2', 'gap 3']) missed.push(await small.publish(token, 'sms:hank:c1', 'message', sms('hank', 'c1', text)))
      expect(missed.map(({ status }) => status)).toEqual([202, 202, 202])
      await small.hub.listen()
      // Delivered to the hub before the client is back: the hub keeps only the last, so the resume loses continuity.
      await small.gateway.sweep()

      await until(() => received.length === 4, 'the backfill')
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(ids(received)).toEqual([first.body.messageId, ...missed.map(({ body }) => body.messageId)])
      expect(received.slice(1).map((message) => message.source)).toContain('history')
    } finally {
      await small.close()
    }
  })

  it('after any reconnection, a message still waiting in the outbox comes from the store at once', async () => {
    const { client: jack, received, token } = await inConversation('jack')

    await stack.hub.close()
    const queued = await stack.publish(token, 'sms:jack:c1', 'message', sms('jack', 'c1', 'queued'))
    expect(queued.status).toBe(202)
    // A sweep against the stopped hub fails, and the outbox postpones the message by its backoff.
    await stack.gateway.sweep()
    await stack.hub.listen()

    await until(() => received.length === 1, 'the backfill')
    expect(received[0]).toMatchObject({ id: queued.body.messageId, source: 'history' })
    expect(jack.realtime?.connection.state).toBe('connected')
  })

  it('a backfill still loading at disconnect() delivers nothing afterwards, and starts no other', async () => {
    let hold = false
    let release = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    let historyRequests = 0
    const {
      client: kate,
      received,
      token,
    } = await inConversation('kate', {
      options: {
        fetch: async (input, init) => {
          if (String(input).includes('/api/ably/history')) {
            historyRequests += 1
            if (hold) await gate
          }
          return globalThis.fetch(input, init)
        },
      },
    })

    await stack.hub.close()
    expect((await stack.publish(token, 'sms:kate:c1', 'message', sms('kate', 'c1', 'queued'))).status).toBe(202)
    await stack.gateway.sweep()
    hold = true
    await stack.hub.listen()
    await until(() => historyRequests === 1, 'the backfill')
    // Lost and back again while that backfill loads: the feed owes another one once it settles.
    const states: string[] = []
    kate.onConnectionStateChange(({ current }) => states.push(current))
    stack.hub.dropConnections()
    await until(() => states.includes('disconnected') && kate.state === 'connected', 'the reconnection')
    await new Promise((resolve) => setTimeout(resolve, 200))

    kate.disconnect()
    release()
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(received).toEqual([])
    expect(historyRequests).toBe(1)
  })

  it('after the connection comes back from suspended, backfills messages still queued for Ably and drops their later live copy', async () => {
    const quick = await startClientStack({ connectionStateTtlMs: 1000 })
    try {
      const { client: iris, received, token } = await inConversation('iris', { on: quick })
      const states: string[] = []
      iris.onConnectionStateChange(({ current }) => states.push(current))

      await quick.hub.close()
      const queued = await quick.publish(token, 'sms:iris:c1', 'message', sms('iris', 'c1', 'queued'))
      expect(queued.status).toBe(202)
      await until(() => states.includes('suspended'), 'suspended')
      await quick.hub.listen()

      await until(() => received.length === 1, 'the backfill')
      expect(received[0]).toMatchObject({ id: queued.body.messageId, source: 'history' })
      // Now Ably gets it too; the client has seen the id.
      await quick.gateway.sweep()
      const after = await quick.publish(token, 'sms:iris:c1', 'message', sms('iris', 'c1', 'after'))
      await until(() => received.length === 2, 'the next message')
      expect(ids(received)).toEqual([queued.body.messageId, after.body.messageId])
    } finally {
      await quick.close()
    }
  })
})
