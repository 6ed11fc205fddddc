/** Gateway test support: a scriptable Ably port, a faulty store, sample payloads and one way to build the app. */
import { expect } from 'vitest'
import { AblyRestError, type AblyMessage, type AblyRest, type BatchChannelResult, type RequestOptions } from '../../src/ably-rest/index.ts'
import { createApp } from '../../src/app.ts'
import type { Env } from '../../src/config/index.ts'
import { parseGatewayConfig, type GatewayConfig } from '../../src/gateway/config.ts'
import { createGateway } from '../../src/gateway/index.ts'
import { gatewayRoutes } from '../../src/gateway/routes.ts'
import type { LogEntry } from '../../src/log/index.ts'
import { StoreUnavailableError, type MessageStore } from '../../src/store/index.ts'
import { createMemoryStore } from '../../src/store/memory.ts'
import { appToken, bearer, NOW, testConfig } from '../support/fixtures.ts'

/**
 * What a scripted call does instead of succeeding: throw this error, hang until the request is aborted, or take
 * the messages and lose the response (`lost`).
 */
export type Fault = AblyRestError | 'hang' | 'lost'

export const ablyDown = () => new AblyRestError('Ably down', { statusCode: 0 })
export const ably503 = () => new AblyRestError('Ably 503', { statusCode: 503, ablyCode: 50300 })
export const ably429 = (retryAfterSec?: number) => new AblyRestError('Ably 429', { statusCode: 429, ablyCode: 42911, retryAfterSec })
export const ably400 = () => new AblyRestError('Ably 400', { statusCode: 400, ablyCode: 40010 })

/**
 * An Ably REST port that delivers to an in-memory channel log, drops repeated message ids as Ably does, and fails
 * according to `faults` (one per request, in order; `undefined` succeeds).
 */
export function scriptedAbly(faults: (Fault | undefined)[] = []) {
  const delivered: { channel: string; message: AblyMessage }[] = []
  const seen = new Set<string>()
  let requests = 0
  let droppedRepeats = 0
  const script = [...faults]
  const state = { down: false }

  /** Runs the next scripted fault; resolves to true when the messages arrive but the response is lost. */
  async function attempt(options: RequestOptions | undefined): Promise<boolean> {
    requests += 1
    if (state.down) throw ablyDown()
    const fault = script.shift()
    if (fault === 'lost') return true
    if (fault === 'hang') {
      await new Promise<never>((_, reject) => {
        const abort = () => reject(new AblyRestError('aborted', { statusCode: 0 }))
        if (options?.signal?.aborted) abort()
        options?.signal?.addEventListener('abort', abort)
      })
    }
    if (fault) throw fault
    return false
  }
  const responseLost = () => new AblyRestError('socket hang up', { statusCode: 0 })
  function accept(channel: string, message: AblyMessage) {
    const key = `${channel}\u0000${message.id}`
    if (message.id !== undefined && seen.has(key)) droppedRepeats += 1
    else {
      if (message.id !== undefined) seen.add(key)
      delivered.push({ channel, message })
    }
  }

  const port: AblyRest = {
    time: async () => NOW,
    channelStatus: async () => ({ isActive: false }),
    publish: async (channel, messages, options) => {
      const lost = await attempt(options)
      for (const message of messages) accept(channel, message)
      if (lost) throw responseLost()
    },
    batchPublish: async (specs, options): Promise<BatchChannelResult[]> => {
      const lost = await attempt(options)
      const results = specs.flatMap((spec) =>
        spec.channels.map((channel) => {
          for (const message of spec.messages) accept(channel, message)
          return { channel, messageId: spec.messages[0]?.id ?? '' }
        }),
      )
      if (lost) throw responseLost()
      return results
    },
    batchPresence: async (channels) => channels.map((channel) => ({ channel, members: [] })),
  }
  return {
    port,
    delivered,
    get requests() {
      return requests
    },
    get droppedRepeats() {
      return droppedRepeats
    },
    /** Appends faults for the next requests. */
    fail: (...next: (Fault | undefined)[]) => script.push(...next),
    /** While true, every request fails as if Ably were unreachable. */
    state,
  }
}

type ScriptedAbly = ReturnType<typeof scriptedAbly>

/**
 * A store that misbehaves on the calls named in `state.failing` (every call when it holds `*`): `throw` fails at
 * once, `hang` never answers, `late` does the work after `lateMs` (past any timeout), `landed` does the work and
 * then reports a failure (a write whose acknowledgement was lost).
 */
export function faultyStore(store: MessageStore = createMemoryStore(), mode: 'throw' | 'hang' | 'late' | 'landed' = 'throw', lateMs = 200) {
  const state = { failing: new Set<string>() }
  const unavailable = () => new StoreUnavailableError('MongoDB: MongoServerSelectionError')
  const call = async (name: string, method: (...args: unknown[]) => Promise<unknown>, args: unknown[]) => {
    if (name === 'close' || !(state.failing.has(name) || state.failing.has('*'))) return method(...args)
    if (mode === 'throw') throw unavailable()
    if (mode === 'hang') return new Promise<never>(() => {})
    if (mode === 'late') return new Promise((resolve) => setTimeout(() => resolve(method(...args)), lateMs))
    await method(...args)
    throw unavailable()
  }
  const wrapped = Object.fromEntries(
    Object.entries(store).map(([name, method]: [string, (...args: unknown[]) => Promise<unknown>]) => [name, (...args: unknown[]) => call(name, method, args)]),
  ) as unknown as MessageStore
  return { store: wrapped, state }
}

/** A store whose calls each take the given time (below its timeout): slow, but working. */
export function slowStore(store: MessageStore, latencyMs: Partial<Record<keyof MessageStore, number>>): MessageStore {
  const delayed = Object.entries(store).map(([name, method]: [string, (...args: unknown[]) => Promise<unknown>]) => {
    const ms = latencyMs[name as keyof MessageStore] ?? 0
    return [name, ms === 0 ? method : async (...args: unknown[]) => (await new Promise((resolve) => setTimeout(resolve, ms)), method(...args))]
  })
  return Object.fromEntries(delayed) as unknown as MessageStore
}

/**
 * A store whose key lookups (while `state.on`) wait for each other in pairs: two requests in flight at once both
 * look up before either goes on to insert or claim, as two function instances may.
 */
export function lookupsInPairs(inner: MessageStore) {
  const state = { on: true }
  const waiting: (() => void)[] = []
  const store: MessageStore = {
    ...inner,
    findByKeys: async (keys) => {
      const found = await inner.findByKeys(keys)
      if (!state.on) return found
      await new Promise<void>((resolve) => {
        waiting.push(resolve)
        if (waiting.length === 2) for (const release of waiting.splice(0)) release()
      })
      return found
    },
  }
  return { store, state }
}

/**
 * Two concurrent requests whose keys overlap: either may store its key first, so the outcome is one 200 and one
 * 422 idempotency_mismatch in either order. Asserts that set and says which one won.
 */
export function oneWinsOneMismatch<R extends { status: number; body: { code?: unknown } }>(first: R, second: R) {
  const outcomes = [first, second].map((response) => [response.status, response.body.code])
  expect(outcomes).toEqual(
    expect.arrayContaining([
      [200, undefined],
      [422, 'idempotency_mismatch'],
    ]),
  )
  const firstWon = first.status === 200
  return { firstWon, winner: firstWon ? first : second, loser: firstWon ? second : first }
}

/** Test environment for the gateway: generous rate limit unless a test sets one. */
const gatewayEnv: Env = { PUBLISH_RATE_LIMIT: '100000' }

export interface GatewayAppOptions {
  ably?: ScriptedAbly
  /** Another Ably port in place of the scripted one (e.g. the real `fetch` port over a fake `fetch`). */
  port?: AblyRest
  store?: MessageStore
  env?: Env
  now?: () => number
  /** Adjusts the parsed gateway config (e.g. a short store timeout). */
  tune?: (config: GatewayConfig) => GatewayConfig
  /** The request deadline, instead of the app's 8 s (publish aims to answer 1 s before it). */
  deadlineMs?: number
}

/** The whole app with the gateway mounted, a fixed clock, recorded (not slept) backoff, and readable logs. */
export function gatewayApp({
  ably = scriptedAbly(),
  port = ably.port,
  now = () => NOW,
  store = createMemoryStore({ now }),
  env = {},
  tune = (config) => config,
  deadlineMs,
}: GatewayAppOptions = {}) {
  const logs: LogEntry[] = []
  const sleeps: number[] = []
  const log = (entry: LogEntry) => logs.push(entry)
  const fullEnv = { ...gatewayEnv, ...env }
  const config = { ...testConfig(fullEnv), ...(deadlineMs !== undefined && { deadlineMs }) }
  const sleep = async (ms: number) => void sleeps.push(ms)
  const gateway = createGateway({ store, config: tune(parseGatewayConfig(fullEnv)), ably: port, log, now, sleep, random: () => 0.5 })
  const app = createApp(config, { ably: port, log, now, routes: [gatewayRoutes(gateway)] })
  return { app, gateway, store, ably, logs, sleeps }
}

export type GatewayApp = ReturnType<typeof gatewayApp>

/** A valid `message` payload for `sms:{userId}:{contactId}`, as in the original API. */
export function smsMessage(userId = 'alice', contactId = 'c1', overrides: Record<string, unknown> = {}) {
  return {
    contactId,
    userId,
    phoneNumberId: 'phone_456',
    message: 'Hello!',
    direction: 'inbound',
    timestamp: '2024-01-15T10:30:00.000Z',
    from: '+1234567890',
    to: '+0987654321',
    ...overrides,
  }
}

export interface PublishBody {
  channelName: string
  eventName: string
  data: Record<string, unknown>
  id?: string
}

/** A valid publish body for each channel kind of `userId`: conversation, contacts, notifications. */
export function ownMessages(userId = 'alice'): [PublishBody, PublishBody, PublishBody] {
  return [
    { channelName: `sms:${userId}:c1`, eventName: 'message', data: smsMessage(userId, 'c1') },
    { channelName: `contacts:${userId}`, eventName: 'update', data: { action: 'refresh' } },
    {
      channelName: `notifications:${userId}`,
      eventName: 'phone_number_assignment',
      data: { phoneNumberId: 'p1', phoneNumber: '+15550100', action: 'assigned' },
    },
  ]
}

export interface PostOptions {
  token?: string
  headers?: Record<string, string>
  /** A raw body; otherwise `body` is JSON-encoded. */
  raw?: string
}

/** POSTs `body` to /api/ably/publish as `alice` (or the given token) with JSON content type. */
export async function publish(app: GatewayApp['app'], body: unknown, { token, headers = {}, raw }: PostOptions = {}) {
  const res = await app.request('/api/ably/publish', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...bearer(token ?? (await appToken())), ...headers },
    body: raw ?? JSON.stringify(body),
  })
  const text = await res.text()
  return { res, status: res.status, body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> }
}
