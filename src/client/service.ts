/**
 * The browser client: one ably-js connection (the modular build: WebSocket, fetch, JSON) authenticated through
 * `/api/ably/token`, refreshed before expiry, stopped for good when the app session is refused, and a subscription
 * API in which each message arrives once, with what a lost connection missed backfilled from the gateway.
 */
import type { ChannelOptions, ClientOptions, ConnectionStateChange, ErrorInfo } from 'ably'
import { BaseRealtime, FetchRequest, WebSocketTransport, type RealtimePresence } from 'ably/modular'
import type { ChannelPolicy, EventData, EventName, KindName, PolicyDeclaration, SegmentValues } from '../policy/index.ts'
import { channelSegment } from '../policy/caller.ts'
import { smsInbox, type SmsInbox } from '../policy/sms-inbox.ts'
import { createFeed, type ChannelMessage, type ClientLogEvent, type Feed, type Timers } from './feed.ts'
import { historySince } from './history.ts'
import { createTokenAuth, type AppTokenGetter, type TokenAuth } from './token-auth.ts'
import { siblingUrl } from './sibling-url.ts'

/** The messages of a policy's channel kind: one `ChannelMessage` per event, its data inferred from the event's schema. */
export type PolicyChannelEvent<D extends PolicyDeclaration, K extends KindName<D>> = {
  [N in EventName<D, K>]: ChannelMessage<N, EventData<D, K, N>>
}[EventName<D, K>]
/** The messages of an SMS inbox channel kind. */
export type ChannelEvent<K extends KindName<SmsInbox>> = PolicyChannelEvent<SmsInbox, K>
export type ConversationEvent = ChannelEvent<'sms'>
export type ContactsEvent = ChannelEvent<'contacts'>
export type NotificationEvent = ChannelEvent<'notifications'>

/** ably-js connection states, plus `unauthorized`: failed because the app session was refused or is gone. */
export type ServiceState = ConnectionStateChange['current'] | 'unauthorized'

export interface ServiceStateChange {
  current: ServiceState
  previous: ServiceState
  reason?: ErrorInfo
  /** When ably-js will try again, in ms (disconnected and suspended). */
  retryIn?: number
}

export type Unsubscribe = () => void

/** ably-js options the service leaves to the caller: where to connect, timeouts, logging. */
export type AblyConnectionOptions = Omit<
  ClientOptions,
  | 'authCallback'
  | 'authUrl'
  | 'authMethod'
  | 'authHeaders'
  | 'authParams'
  | 'key'
  | 'token'
  | 'tokenDetails'
  | 'useTokenAuth'
  | 'clientId'
  | 'plugins'
  | 'useBinaryProtocol'
  | 'autoConnect'
>

export interface AblyServiceOptions {
  /** The token endpoint. */
  tokenUrl?: string
  /** The gateway's history endpoint; by default `tokenUrl` with `token` replaced by `history`. */
  historyUrl?: string
  /** The revoke endpoint `signOut()` calls; by default `tokenUrl` with `token` replaced by `revoke`. */
  revokeUrl?: string
  /** The current app JWT, asked before each token request (so a refreshed session is used); wins over `connect(appToken)`. */
  getAppToken?: AppTokenGetter
  /** Passed to ably-js, e.g. `{ endpoint: 'localhost', port: 8889, tls: false }` for the local hub. */
  ably?: AblyConnectionOptions
  fetch?: typeof globalThis.fetch
  /** Message ids remembered per channel for deduplication. */
  recentIds?: number
  /** How far before a loss of continuity a backfill reaches. */
  backfillOverlapMs?: number
  now?: () => number
  timers?: Timers
  /** Told of backfills and failed attaches; never given a token. */
  log?: (event: ClientLogEvent) => void
  /**
   * ably-js's presence plugin, to enter presence on the user's `notifications:{userId}` channel (the policy's
   * `presenceChannel`) once connected and leave
   * on `disconnect()` (sign-out), so the server's `isOnline` sees the user:
   * `import { RealtimePresence } from 'ably/modular'`, then `presence: RealtimePresence`. Off by default: each enter
   * and each leave is a billed Ably message (two per page session; README, "Presence"), and an app that leaves it out
   * ships 3.6 KB gzip less. The channel is then attached without presence-subscribe, so the user's other tabs are not
   * sent (and billed) each other's enters and leaves.
   */
  presence?: typeof RealtimePresence
}

/** The service of any channel policy: one connection, and subscriptions derived from the policy. */
export interface PolicyAblyService<D extends PolicyDeclaration> {
  /**
   * Connects (or, after `failed`/`unauthorized`/`disconnect()`, connects anew); resolves `true` once connected and
   * `false` when it settles in any other state (`unauthorized`, `failed`, `closed`), as the old guide's `connect` did:
   * `if (await ablyService.connect(jwt))` is safe. Read why in `state`, or follow it with `onConnectionStateChange`.
   */
  connect(appToken?: string): Promise<boolean>
  /** The events of the kind's channel named by `segments`, each message typed from its event's schema. */
  subscribe<K extends KindName<D>>(kind: K, segments: SegmentValues<D, K>, callback: (message: PolicyChannelEvent<D, K>) => void): Unsubscribe
  onConnectionStateChange(callback: (change: ServiceStateChange) => void): Unsubscribe
  /** Closes the connection and drops every subscription. */
  disconnect(): void
  /**
   * Log out: revokes this session's Ably tokens (every session of the user with `everywhere`) through the revoke
   * endpoint, then disconnects. Resolves with whether the revocation completed; it disconnects either way, and the
   * app should then end its own session (see README, "Revocation").
   */
  signOut(options?: { everywhere?: boolean }): Promise<SignOutResult>
  readonly state: ServiceState
  /** The current ably-js client (for `ably/react`'s `AblyProvider`); undefined before `connect()`. */
  readonly realtime: BaseRealtime | undefined
  /** The credentials source the client uses. */
  readonly auth: TokenAuth
}

/** The SMS inbox's service: the policy's `subscribe`, and one named function per channel kind. */
export interface AblyService extends PolicyAblyService<SmsInbox> {
  /** `message` and `message_status` on `sms:{userId}:{contactId}`. */
  subscribeToConversation(contactId: string, userId: string, callback: (message: ConversationEvent) => void): Unsubscribe
  /** `update` on `contacts:{userId}`. */
  subscribeToContactUpdates(userId: string, callback: (message: ContactsEvent) => void): Unsubscribe
  /** `sms_received`, `phone_number_assignment` and `update` on `notifications:{userId}`. */
  subscribeToNotifications(userId: string, callback: (message: NotificationEvent) => void): Unsubscribe
}

/** How a sign-out went: `revoked` only when the server confirmed it; `code` is the error code otherwise. */
export interface SignOutResult {
  revoked: boolean
  code?: string
}

/** Subscribe and enter presence, without presence-subscribe: nobody's presence events are sent to the user's tabs. */
const presenceChannelOptions = (): ChannelOptions => ({ modes: ['SUBSCRIBE', 'PRESENCE'] })

/** How long a sign-out waits for the presence LEAVE to go out before closing the connection. */
const LEAVE_WAIT_MS = 1000

const SETTLED = new Set<ServiceState>(['connected', 'failed', 'unauthorized', 'closed'])
const ENDED = new Set<ServiceState>(['failed', 'unauthorized', 'closed', 'closing'])

const defaultTimers: Timers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/** Builds the SMS inbox's service; nothing connects until `connect()`. */
export function createAblyService(options: AblyServiceOptions = {}): AblyService {
  const service = createPolicyService(smsInbox, options)
  return Object.assign(service, {
    subscribeToConversation: (contactId: string, userId: string, callback: (message: ConversationEvent) => void) =>
      service.subscribe('sms', { userId, contactId }, callback),
    subscribeToContactUpdates: (userId: string, callback: (message: ContactsEvent) => void) => service.subscribe('contacts', { userId }, callback),
    subscribeToNotifications: (userId: string, callback: (message: NotificationEvent) => void) => service.subscribe('notifications', { userId }, callback),
  })
}

/** Builds the service of any channel policy; nothing connects until `connect()`. */
export function createPolicyService<D extends PolicyDeclaration>(
  policy: ChannelPolicy<D>,
  {
    tokenUrl = '/api/ably/token',
    historyUrl = siblingUrl(tokenUrl, 'history'),
    revokeUrl,
    getAppToken,
    ably = {},
    fetch = (input, init) => globalThis.fetch(input, init),
    recentIds = 1000,
    backfillOverlapMs = 15_000,
    now = Date.now,
    timers = defaultTimers,
    log = () => {},
    presence,
  }: AblyServiceOptions = {},
): PolicyAblyService<D> {
  let appToken: string | undefined
  let realtime: BaseRealtime | undefined
  let state: ServiceState = 'initialized'
  /** The connection was lost and has not come back yet. */
  let reconnecting = false
  let serverOffset = 0
  const feeds = new Map<string, Feed>()
  const stateListeners = new Set<(change: ServiceStateChange) => void>()
  const currentAppToken = async () => (getAppToken ? getAppToken() : appToken)

  // Refresh before expiry needs no timer here: Ably (and the hub) sends AUTH about 30 s before a token expires, and
  // ably-js renews it in place through `authCallback`, on the same connection (RTN22,
  // https://sdk.ably.com/builds/ably/specification/main/features/#RTN22; tests/client shows it against the hub). A
  // prompt missed all the same ends in DISCONNECTED 40142 at expiry, which ably-js answers with a new token and a resume.
  const auth = createTokenAuth({
    tokenUrl,
    fetch,
    getAppToken: currentAppToken,
    onToken(token) {
      serverOffset = token.issued - now()
    },
  })

  /** The client that entered presence (so each client enters once; ably-js re-enters by itself after a lost connection). */
  let presentOn: BaseRealtime | undefined

  /** The user's presence channel (the policy's, see `presenceChannel`) for a clientId, if any. */
  const presenceChannelOf = (userId: string): string | undefined => {
    try {
      return policy.presenceChannel(channelSegment(userId))
    } catch {
      return undefined
    }
  }

  /** The presence channel, attached with presence but not presence-subscribe when presence is on; others as they are. */
  function channelOf(client: BaseRealtime, channelName: string) {
    const present = presence && policy.presenceKind !== undefined && policy.parse(channelName)?.kind === policy.presenceKind
    return present ? client.channels.get(channelName, presenceChannelOptions()) : client.channels.get(channelName)
  }

  function enterPresence(client: BaseRealtime) {
    const userId = client.auth.clientId
    if (!presence || presentOn === client || typeof userId !== 'string' || userId === '*') return
    const channelName = presenceChannelOf(userId)
    if (channelName === undefined) return
    presentOn = client
    channelOf(client, channelName)
      .presence.enter()
      .catch((error: { code?: number }) => log({ event: 'presence_failed', channelName, action: 'enter', code: error.code }))
  }

  /** Leaves presence when this client entered it and is connected; a clean close would remove the member anyway, at once. */
  function leavePresence(client: BaseRealtime): Promise<void> | undefined {
    const userId = client.auth.clientId
    if (presentOn !== client || typeof userId !== 'string') return undefined
    presentOn = undefined
    const channelName = presenceChannelOf(userId)
    if (client.connection.state !== 'connected' || channelName === undefined) return undefined
    return client.channels
      .get(channelName)
      .presence.leave()
      .catch((error: { code?: number }) => log({ event: 'presence_failed', channelName, action: 'leave', code: error.code }))
  }

  function emit(current: ServiceState, change: Partial<ServiceStateChange> = {}) {
    if (current === state) return
    const event: ServiceStateChange = { ...change, current, previous: state }
    state = current
    for (const listener of [...stateListeners]) listener(event)
  }

  function onConnection({ current, previous, reason, retryIn }: ConnectionStateChange) {
    if (previous === 'connected' && current !== 'connected') {
      reconnecting = true
      for (const feed of feeds.values()) feed.markLost()
    }
    // Back after any loss, not only from `suspended`: a message the gateway accepted while Ably was out of reach
    // waits in its outbox, postponed by the sweeper's backoff (30 s and more), and a resumed connection does not
    // bring it. The store has it now.
    if (current === 'connected' && reconnecting) {
      reconnecting = false
      for (const feed of feeds.values()) feed.requireBackfill()
    }
    emit(current === 'failed' && auth.unauthorized ? 'unauthorized' : current, { ...(reason && { reason }), ...(retryIn !== undefined && { retryIn }) })
  }

  function nextSettled(): Promise<ServiceState> {
    return new Promise((resolve) => {
      const listener = ({ current }: ServiceStateChange) => {
        if (!SETTLED.has(current)) return
        stateListeners.delete(listener)
        resolve(current)
      }
      stateListeners.add(listener)
    })
  }

  function dropClient() {
    const client = realtime
    for (const feed of feeds.values()) feed.unbind(false)
    realtime = undefined
    auth.reset()
    if (!client) return
    // ably-js sends the LEAVE only after an await of its own, so the close waits for it (a moment, at most LEAVE_WAIT_MS).
    const leaving = leavePresence(client)
    if (!leaving) return client.close()
    let timer: unknown
    const waited = new Promise<void>((resolve) => (timer = timers.setTimeout(resolve, LEAVE_WAIT_MS)))
    void Promise.race([leaving, waited]).finally(() => {
      timers.clearTimeout(timer)
      client.close()
    })
  }

  function subscribe<K extends KindName<D>>(kind: K, segments: SegmentValues<D, K>, callback: (message: PolicyChannelEvent<D, K>) => void): Unsubscribe {
    const channelName = policy.format(kind, segments)
    let feed = feeds.get(channelName)
    if (!feed) {
      feed = createFeed({
        channelName,
        eventNames: policy.events[kind],
        recentIds,
        loadSince: async (name, since) => historySince({ historyUrl, appToken: await currentAppToken(), fetch }, name, since),
        serverOffset: () => serverOffset,
        overlapMs: backfillOverlapMs,
        now,
        timers,
        log,
      })
      feeds.set(channelName, feed)
      if (realtime) {
        channelOf(realtime, channelName)
        feed.bind(realtime)
      }
    }
    // The feed only passes on this kind's events, whose data the gateway validated against the policy's schemas before
    // publishing (browsers publish only where the policy says so), so the client trusts it rather than shipping zod.
    const stop = feed.listen(callback as (message: ChannelMessage) => void)
    const owner = feed
    return () => {
      stop()
      if (owner.listenerCount > 0 || feeds.get(channelName) !== owner) return
      owner.unbind(true)
      feeds.delete(channelName)
    }
  }

  /** Starts connecting (synchronously: a second call sees the client) and resolves with the state it settles in. */
  function settle(token: string | undefined): Promise<ServiceState> {
    if (token !== undefined) appToken = token
    if (realtime && !ENDED.has(state)) return state === 'connected' ? Promise.resolve(state) : nextSettled()
    dropClient()
    reconnecting = false
    const plugins = presence ? { WebSocketTransport, FetchRequest, RealtimePresence: presence } : { WebSocketTransport, FetchRequest }
    const client = new BaseRealtime({ ...ably, authCallback: auth.authCallback, useBinaryProtocol: false, autoConnect: false, plugins })
    realtime = client
    // Events of a client replaced since are ignored.
    client.connection.on((change) => {
      if (client !== realtime) return
      onConnection(change)
      if (change.current === 'connected') enterPresence(client)
    })
    for (const [channelName, feed] of feeds) {
      channelOf(client, channelName)
      feed.bind(client)
    }
    const settled = nextSettled()
    // ably-js reports `connecting` a tick later; saying so now makes a second connect() wait for this client
    // instead of building another, and lets a disconnect() before then settle this one as `closed`.
    emit('connecting')
    client.connect()
    return settled
  }

  function disconnect() {
    const connected = realtime !== undefined
    for (const feed of feeds.values()) feed.close()
    feeds.clear()
    dropClient()
    if (connected) emit('closed')
  }

  return {
    connect: async (token) => (await settle(token)) === 'connected',
    subscribe,
    onConnectionStateChange(callback) {
      const listener = (change: ServiceStateChange) => callback(change)
      stateListeners.add(listener)
      return () => void stateListeners.delete(listener)
    },
    disconnect,
    async signOut({ everywhere = false } = {}) {
      const url = revokeUrl ?? siblingUrl(tokenUrl, 'revoke')
      // Presence leaves while the connection still stands: once revoked, Ably cuts it before a LEAVE could go out.
      const leaving = realtime && leavePresence(realtime)
      if (leaving) await Promise.race([leaving, new Promise<void>((resolve) => timers.setTimeout(resolve, LEAVE_WAIT_MS))])
      let result: SignOutResult
      try {
        const token = await currentAppToken()
        if (!token) {
          result = { revoked: false, code: 'signed_out' }
        } else {
          // Revoke first: the connection's token must stop working even if someone copied it.
          const res = await fetch(url, {
            method: 'POST',
            headers: { Authorization: `Bearer ${token}`, ...(everywhere && { 'Content-Type': 'application/json' }) },
            ...(everywhere && { body: JSON.stringify({ scope: 'user' }) }),
          })
          const body = (await res.json().catch(() => ({}))) as { code?: unknown }
          result = res.ok ? { revoked: true } : { revoked: false, code: typeof body.code === 'string' ? body.code : `http_${res.status}` }
        }
      } catch {
        result = { revoked: false, code: 'network_error' }
      }
      disconnect()
      return result
    },
    get state() {
      return state
    },
    get realtime() {
      return realtime
    },
    auth,
  }
}
