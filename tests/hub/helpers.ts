/** Shared fixtures for the hub tests: a hub per file, real ably clients, Ably JWTs and a raw socket. */
import * as Ably from 'ably'
import { SignJWT } from 'jose'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { WebSocket } from 'ws'
import { decode, encode, type Format } from '../../src/hub/codec.ts'
import { createHub, type Hub, type HubKey, type HubOptions } from '../../src/hub/index.ts'

export const ROOT_KEY: HubKey = { name: 'app.root', secret: 'rootsecret0123456789' }
export const SUBSCRIBE_KEY: HubKey = {
  name: 'app.reader',
  secret: 'readersecret0123456789',
  capability: { 'public:*': ['subscribe', 'history', 'channel-metadata'] },
}
export const keyString = (key: HubKey) => `${key.name}:${key.secret}`

export const ALICE_CAPABILITY = {
  'sms:alice:*': ['subscribe', 'history', 'presence'],
  'contacts:alice': ['subscribe', 'history'],
  'notifications:alice': ['subscribe', 'history'],
}

export const PROTOCOLS = [
  { protocol: 'msgpack', useBinaryProtocol: true },
  { protocol: 'json', useBinaryProtocol: false },
] as const

/** A clock the tests move forward instead of sleeping. */
interface TestClock {
  offset: number
  now(): number
}

export interface HubFixture {
  hub: Hub
  port: number
  clock: TestClock
  logs: Record<string, unknown>[]
  /** A Realtime client closed after each test. */
  realtime(options?: Ably.ClientOptions): Ably.Realtime
  /** A Rest client. */
  rest(options?: Ably.ClientOptions): Ably.Rest
  /** A raw WebSocket speaking the protocol directly, closed after each test. */
  raw(query: string, format?: Format): Promise<RawSocket>
  /** A plain HTTP request to the hub. */
  fetch(path: string, init?: RequestInit): Promise<Response>
}

/** Starts one hub for the calling test file and closes every client after each test. */
export function useHub(options: Partial<HubOptions> = {}, clientDefaults: Ably.ClientOptions = {}): HubFixture {
  const clock: TestClock = { offset: 0, now: () => Date.now() + clock.offset }
  const logs: Record<string, unknown>[] = []
  const realtimes = new Set<Ably.Realtime>()
  const raws = new Set<RawSocket>()
  const fixture = {
    clock,
    logs,
    realtime(clientOptions: Ably.ClientOptions = {}) {
      const client = new Ably.Realtime({ ...this.endpoint(), ...clientDefaults, ...clientOptions })
      realtimes.add(client)
      return client
    },
    rest(clientOptions: Ably.ClientOptions = {}) {
      return new Ably.Rest({ ...this.endpoint(), ...clientDefaults, ...clientOptions })
    },
    async raw(query: string, format: Format = 'json') {
      const socket = await openRaw(`ws://127.0.0.1:${this.port}/?${query}&format=${format}&v=6`, format)
      raws.add(socket)
      return socket
    },
    fetch(path: string, init?: RequestInit) {
      return fetch(`http://127.0.0.1:${this.port}${path}`, init)
    },
    endpoint(): Ably.ClientOptions {
      return { endpoint: 'localhost', port: this.port, tls: false, logLevel: 0 }
    },
  } as HubFixture & { endpoint(): Ably.ClientOptions }

  beforeAll(async () => {
    fixture.hub = createHub({
      keys: [ROOT_KEY, SUBSCRIBE_KEY],
      sweepIntervalMs: 25,
      now: clock.now,
      log: (line) => logs.push(line),
      ...options,
    })
    fixture.port = (await fixture.hub.listen()).port
  })

  afterEach(async () => {
    clock.offset = 0
    await Promise.all([...realtimes].map(closeRealtime))
    for (const socket of raws) socket.ws.terminate()
    realtimes.clear()
    raws.clear()
  })

  afterAll(async () => {
    await fixture.hub.close()
  })

  return fixture
}

async function closeRealtime(client: Ably.Realtime): Promise<void> {
  const { state } = client.connection
  if (state === 'closed' || state === 'failed' || state === 'initialized') {
    client.close()
    return
  }
  const closed = client.connection.once('closed')
  client.close()
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2000))])
}

/** Signs an Ably JWT the way our token endpoint does. Times are in ms; claims are in seconds. */
export async function mintJwt({
  key = ROOT_KEY,
  clientId,
  capability,
  now = Date.now(),
  ttlMs = 3_600_000,
  extraClaims = {},
}: {
  key?: HubKey
  clientId?: string
  capability?: Record<string, string[]>
  now?: number
  ttlMs?: number
  extraClaims?: Record<string, unknown>
} = {}): Promise<string> {
  const claims: Record<string, unknown> = { ...extraClaims }
  if (clientId !== undefined) claims['x-ably-clientId'] = clientId
  if (capability !== undefined) claims['x-ably-capability'] = JSON.stringify(capability)
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', kid: key.name, typ: 'JWT' })
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(Math.floor((now + ttlMs) / 1000))
    .sign(new TextEncoder().encode(key.secret))
}

type WireFrame = Record<string, unknown> & { action: number }

/** A raw protocol socket: frames are queued as they arrive and taken with `next()`. */
export interface RawSocket {
  ws: WebSocket
  frames: WireFrame[]
  send(frame: unknown): void
  next(predicate?: (frame: WireFrame) => boolean): Promise<WireFrame>
  closed: Promise<number>
}

function openRaw(url: string, format: Format): Promise<RawSocket> {
  const ws = new WebSocket(url)
  const frames: WireFrame[] = []
  const waiters: { predicate: (frame: WireFrame) => boolean; resolve: (frame: WireFrame) => void }[] = []
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)))
  const take = () => {
    for (const waiter of [...waiters]) {
      const index = frames.findIndex(waiter.predicate)
      if (index === -1) continue
      const [frame] = frames.splice(index, 1)
      waiters.splice(waiters.indexOf(waiter), 1)
      waiter.resolve(frame!)
    }
  }
  ws.on('message', (data: Buffer) => {
    frames.push(decode(new Uint8Array(data), format) as WireFrame)
    take()
  })
  ws.on('error', () => {})
  const socket: RawSocket = {
    ws,
    frames,
    closed,
    send: (frame) => ws.send(encode(frame, format)),
    next: (predicate = () => true) =>
      new Promise<WireFrame>((resolve, reject) => {
        waiters.push({ predicate, resolve })
        take()
        closed.then(() => setTimeout(() => reject(new Error('socket closed before the frame arrived')), 50))
      }),
  }
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(socket))
    ws.once('error', reject)
  })
}

/** Resolves with the first `count` messages a channel receives. */
export function collect(channel: Ably.RealtimeChannel, count: number, event?: string): Promise<Ably.InboundMessage[]> {
  const received: Ably.InboundMessage[] = []
  return new Promise((resolve, reject) => {
    const listener = (message: Ably.InboundMessage) => {
      received.push(message)
      if (received.length === count) resolve(received)
    }
    const subscribed = event ? channel.subscribe(event, listener) : channel.subscribe(listener)
    subscribed.catch(reject)
  })
}

/** Waits until `check` passes, polling; for state that has no event to wait on. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
