/**
 * Server helpers: publish from any Node server that holds the Ably API key, through the gateway's own checks,
 * idempotency, store and retries. A trusted server may publish to any user's channel; everything else is the same
 * as `POST /api/ably/publish`: a refused message throws an `AppError` with a stable `code`.
 */
import { createFetchAblyRest, type AblyRest } from '../ably-rest/index.ts'
import type { ContactUpdateData, MessageData, MessageStatusData, NotificationData, PhoneNumberAssignmentData, SmsReceivedData } from '../channels/schemas.ts'
import type { ChannelPolicy, EventData, EventName, KindName, PolicyDeclaration, SegmentValues } from '../policy/index.ts'
import { channelSegment, isAcceptedId } from '../policy/caller.ts'
import { smsInbox, type SmsInbox } from '../policy/sms-inbox.ts'
import { parseAblyEnv } from '../config/check.ts'
import type { Env } from '../config/index.ts'
import type { PublishResponse } from '../contract/index.ts'
import { AppError } from '../errors/index.ts'
import { parseGatewayConfig, type GatewayConfig } from '../gateway/config.ts'
import { createGateway, onlyResult, type Accepted, type Gateway, type SweepReport } from '../gateway/index.ts'
import { openStore } from '../store/open.ts'
import { jsonLineLogger, type Logger } from '../log/index.ts'
import { isOnline } from '../presence/index.ts'
import type { MessageStore } from '../store/index.ts'

export interface PublishOptions {
  /** Makes the call idempotent: a repeat returns the first result and publishes nothing new. */
  idempotencyKey?: string
}

/**
 * A message Ably took (`published`) or that is stored and will be delivered by the sweeper (`queued`): the publish
 * route's answer, and `replayed`, true when the idempotency key was known (nothing new was stored or published).
 */
export type PublishResult = PublishResponse & { replayed: boolean }

export interface BatchItem {
  channelName: string
  eventName: string
  data: unknown
  idempotencyKey?: string
}

/** One message of a batch: published or queued, or refused by Ably for good. */
export type BatchResult = PublishResult | (Omit<PublishResult, 'success' | 'status'> & { success: false; status: 'failed'; code: 'publish_rejected' })

/** One channel of a policy, named by its kind and segments: publish its events with payloads typed from their schemas. */
export interface ChannelPublisher<D extends PolicyDeclaration, K extends KindName<D>> {
  readonly name: string
  publish<E extends EventName<D, K>>(eventName: E, data: EventData<D, K, E>, options?: PublishOptions): Promise<PublishResult>
}

/** What every policy's server helpers have: derived from the policy, checked by the gateway as a trusted server caller. */
export interface PolicyServerHelpers<D extends PolicyDeclaration> {
  /** Any event on any channel, checked against the policy's events and schemas. */
  publish(channelName: string, eventName: string, data: unknown, options?: PublishOptions): Promise<PublishResult>
  /** A channel by its kind and segments; a segment outside its alphabet is `invalid_channel`. */
  channel<K extends KindName<D>>(kind: K, segments: SegmentValues<D, K>): ChannelPublisher<D, K>
  /** Up to `MAX_SERVER_BATCH` messages: all checked first, stored, then sent in Ably requests of at most 64 KiB. */
  publishBatch(items: readonly BatchItem[]): Promise<BatchResult[]>
  /** Republishes what is still pending (run it on a timer, or leave it to the scheduled function). */
  sweep(): Promise<SweepReport>
  startSweeper(intervalMs: number): () => void
  close(): Promise<void>
}

/** The SMS inbox's helpers: the policy's, and one named function per event as the original server had. */
export interface ServerHelpers extends PolicyServerHelpers<SmsInbox> {
  /** `message` on `sms:{userId}:{contactId}`. */
  publishMessage(userId: string, contactId: string, data: MessageData, options?: PublishOptions): Promise<PublishResult>
  /** `message_status` on `sms:{userId}:{contactId}`. */
  publishMessageStatus(userId: string, contactId: string, data: MessageStatusData, options?: PublishOptions): Promise<PublishResult>
  /** `update` on `contacts:{userId}`. */
  broadcastContactUpdate(userId: string, data: ContactUpdateData, options?: PublishOptions): Promise<PublishResult>
  /** `sms_received` on `notifications:{userId}`. */
  publishIncomingSms(userId: string, data: SmsReceivedData, options?: PublishOptions): Promise<PublishResult>
  /** `phone_number_assignment` on `notifications:{userId}`. */
  publishPhoneNumberAssignment(userId: string, data: PhoneNumberAssignmentData, options?: PublishOptions): Promise<PublishResult>
  /** `update` on `notifications:{userId}`. */
  publishNotification(userId: string, data: NotificationData, options?: PublishOptions): Promise<PublishResult>
  /**
   * Whether each user is online (present on `notifications:{userId}`, which the browser client enters with
   * `presence: RealtimePresence`), by user id: Ably's REST presence, 100 users per request. An abrupt disconnect shows for ~15 s.
   */
  isOnline(userIds: readonly string[]): Promise<Record<string, boolean>>
}

export const MAX_SERVER_BATCH = 500

// biome-ignore lint/suspicious/noExplicitAny: any declaration, as for `ChannelPolicy`
export interface ServerHelpersOptions<D extends PolicyDeclaration = any> {
  /** The channel policy; the SMS inbox by default. */
  policy?: ChannelPolicy<D>
  ably: AblyRest
  store: MessageStore
  config?: GatewayConfig
  log?: Logger
  now?: () => number
  sleep?: (ms: number) => Promise<void>
  random?: () => number
}

/** Builds the SMS inbox's helpers over an Ably port and a store. */
export function createServerHelpers(options: Omit<ServerHelpersOptions<SmsInbox>, 'policy'>): ServerHelpers {
  return serverHelpersFor(gatewayFor(options), options.ably)
}

/** Builds the helpers of any policy over an Ably port and a store. */
export function createPolicyServerHelpers<D extends PolicyDeclaration>(
  options: ServerHelpersOptions<D> & { policy: ChannelPolicy<D> },
): PolicyServerHelpers<D> {
  return policyHelpersFor(gatewayFor(options), options.policy)
}

function gatewayFor({
  ably,
  store,
  config = parseGatewayConfig({}),
  log = jsonLineLogger,
  now = Date.now,
  sleep,
  random,
  policy,
}: ServerHelpersOptions): Gateway {
  return createGateway({ store, config, ably, log, now, ...(policy && { policy }), ...(sleep && { sleep }), ...(random && { random }) })
}

/** The helpers from the environment: `ABLY_API_KEY`, `ABLY_REST_URL`, and the gateway's `MONGODB_URI` and friends. */
export function serverHelpersFromEnv(env: Env, options: Partial<Omit<ServerHelpersOptions<SmsInbox>, 'policy'>> = {}): ServerHelpers {
  return createServerHelpers(optionsFromEnv(env, options))
}

/** `serverHelpersFromEnv` for an app's own channel policy. */
export function policyServerHelpersFromEnv<D extends PolicyDeclaration>(
  env: Env,
  policy: ChannelPolicy<D>,
  options: Partial<Omit<ServerHelpersOptions<D>, 'policy'>> = {},
): PolicyServerHelpers<D> {
  return createPolicyServerHelpers({ ...optionsFromEnv(env, options), policy })
}

function optionsFromEnv(env: Env, options: Partial<ServerHelpersOptions>): ServerHelpersOptions {
  // Each default is built only when not given: no Ably client (nor a need for ABLY_API_KEY) beside the caller's
  // port, and no second store (a MongoDB client) beside the caller's store.
  const ably = options.ably ?? createFetchAblyRest(parseAblyEnv(env))
  const config = parseGatewayConfig(env)
  const log = options.log ?? jsonLineLogger
  if (!options.store && config.store.kind === 'memory') {
    log({ level: 'warn', msg: 'memory_store', detail: 'Server helpers keep queued messages in this process only. Set MONGODB_URI to keep them.' })
  }
  return { config, log, ...options, ably, store: options.store ?? openStore(config.store) }
}

/** The SMS inbox's helpers over a gateway already built (for example the one an app serves) and its Ably port, as a trusted server caller. */
export function serverHelpersFor(gateway: Gateway, ably: AblyRest): ServerHelpers {
  const helpers = policyHelpersFor(gateway, smsInbox)
  // These take the user id as the provider spells it; channel names hold its segment. An id that is not accepted
  // stays as it is and is refused as any other bad segment (`invalid_channel`).
  const segment = (userId: string) => (isAcceptedId(userId) ? channelSegment(userId) : userId)
  const sms = (userId: string, contactId: string) => helpers.channel('sms', { userId: segment(userId), contactId })
  const contacts = (userId: string) => helpers.channel('contacts', { userId: segment(userId) })
  const notifications = (userId: string) => helpers.channel('notifications', { userId: segment(userId) })
  return {
    ...helpers,
    publishMessage: async (userId, contactId, data, options) => sms(userId, contactId).publish('message', data, options),
    publishMessageStatus: async (userId, contactId, data, options) => sms(userId, contactId).publish('message_status', data, options),
    broadcastContactUpdate: async (userId, data, options) => contacts(userId).publish('update', data, options),
    publishIncomingSms: async (userId, data, options) => notifications(userId).publish('sms_received', data, options),
    publishPhoneNumberAssignment: async (userId, data, options) => notifications(userId).publish('phone_number_assignment', data, options),
    publishNotification: async (userId, data, options) => notifications(userId).publish('update', data, options),
    isOnline: (userIds) => isOnline(ably, userIds),
  }
}

/** The helpers of `policy` over a gateway built with it, as a trusted server caller. */
export function policyHelpersFor<D extends PolicyDeclaration>(gateway: Gateway, policy: ChannelPolicy<D>): PolicyServerHelpers<D> {
  if ((gateway.policy as unknown) !== policy) throw new TypeError('policyHelpersFor: the gateway enforces another channel policy')
  async function accept(items: readonly BatchItem[]): Promise<Accepted[]> {
    if (items.length === 0 || items.length > MAX_SERVER_BATCH)
      throw new AppError('invalid_request', { message: `A batch holds 1 to ${MAX_SERVER_BATCH} messages.` })
    const messages = items.map(({ idempotencyKey, ...item }) => ({ ...item, ...(idempotencyKey !== undefined && { id: idempotencyKey }) }))
    // No request deadline here: the delivery budget bounds the call, and no store call is cut short for a deadline.
    return gateway.accept(messages, { caller: { kind: 'server' } })
  }

  async function publish(channelName: string, eventName: string, data: unknown, options: PublishOptions = {}): Promise<PublishResult> {
    return toResult(onlyResult(await accept([{ channelName, eventName, data, ...options }])))
  }

  return {
    publish,
    channel(kind, segments) {
      let name: string
      try {
        name = policy.format(kind, segments)
      } catch {
        // An invalid segment is refused like any bad input, when the message is published.
        return { name: '', publish: async () => Promise.reject(policy.invalidChannel()) }
      }
      return { name, publish: (eventName, data, options) => publish(name, eventName, data, options) }
    },
    async publishBatch(items) {
      return (await accept(items)).map((result) =>
        result.status === 'failed' ? { ...toResult(result), success: false, status: 'failed', code: 'publish_rejected' } : toResult(result),
      )
    },
    sweep: () => gateway.sweep(),
    startSweeper: (intervalMs) => gateway.startSweeper(intervalMs),
    close: () => gateway.close(),
  }
}

function toResult({ channelName: name, messageId, timestamp, status, replayed }: Accepted): PublishResult {
  // A message another caller is delivering right now is stored and on its way: queued, for this caller.
  return { success: true, status: status === 'published' ? 'published' : 'queued', channelName: name, messageId, timestamp, replayed }
}
