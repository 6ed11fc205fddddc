/**
 * The realtime side of the hub: one WebSocket per connection, Ably protocol 6 frames in JSON or
 * MessagePack, connection state kept for resume, channel attachments, fan-out, presence and
 * token renewal. See the protocol notes in shared/reference/ably-protocol.md.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { ChannelMetrics } from 'ably'
import type { RawData, WebSocket } from 'ws'
import { effectiveClientId, resolveIdentity, type Authority, type Credential, type Identity } from './auth.ts'
import { assertPermitted, operationsOn, type Capability } from './capability.ts'
import type { ChannelStore, PublishOutcome } from './channels.ts'
import { decode, encode, type Format } from './codec.ts'
import { asHubError, HubError, toErrorInfo } from './errors.ts'
import {
  assertChannelName,
  assertPublishSize,
  messageToWire,
  parseMessages,
  parsePresence,
  presenceToWire,
  type InboundMessage,
  type PresenceEvent,
  type StoredMessage,
} from './messages.ts'
import {
  Action,
  DEFAULT_MODES,
  Flag,
  Mode,
  modesFromParam,
  PresenceAction,
  SUPPORTED_MODES,
  type OutboundFrame,
} from './protocol.ts'

export type LogLine = (line: Record<string, unknown>) => void

export interface RealtimeOptions {
  authority: Authority
  store: ChannelStore
  now: () => number
  log: LogLine
  randomId: (bytes: number) => string
  maxMessageSize: number
  maxFrameSize: number
  connectionStateTtlMs: number
  maxIdleIntervalMs: number
}

export interface Realtime {
  /** Takes over an upgraded socket; the connection is authenticated over the protocol, never refused at upgrade. */
  accept(ws: WebSocket, url: URL, headers: IncomingHttpHeaders): void
  /** Stores messages and delivers them to attached subscribers. */
  publish(channel: string, messages: readonly InboundMessage[], connectionId?: string): PublishOutcome
  /** Channel occupancy as Ably's channel status reports it. */
  occupancy(channel: string): ChannelMetrics
  /** Drops every socket abruptly; connection state stays for resume. */
  dropAll(): void
  /** Idle heartbeats, token renewal prompts and expiry, expiry of detached connection state. */
  sweep(): void
}

interface Link {
  ws: WebSocket
  format: Format
  session?: Session
  queue: Promise<void>
  pending: number
  lastSentAt: number
  closed: boolean
}

interface Session {
  id: string
  key: string
  credential: Credential
  identity: Identity
  requestedClientId?: string
  echo: boolean
  link?: Link
  /** Channel → granted modes, while a socket is linked. */
  attachments: Map<string, number>
  /** Replies to recent msgSerials, re-sent when a resumed client re-sends an unacknowledged frame. */
  replies: Map<number, OutboundFrame>
  /** Serials listed in `replies`, which is what their memory grows with. */
  repliedSerials: number
  lastMsgSerial: number
  disconnectedAt?: number
  presenceReleased: boolean
  authPromptAt?: number
}

interface Frame {
  action: number
  [field: string]: unknown
}

const MAX_REPLIES_KEPT = 1000
// Enough for ably-js, which sends one publish per frame while connected, and for two of the largest frames.
const MAX_REPLY_SERIALS_KEPT = 2000
const MAX_QUEUED_FRAMES = 1000
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024
const MAX_CHANNELS_PER_CONNECTION = 200
const MAX_SESSIONS = 10_000
// Ably removes the presence members of a connection that dropped without resuming after 15 s.
const PRESENCE_GRACE_MS = 15_000
// Ably prompts token renewal 30 s before expiry; shorter-lived tokens are prompted half-way through.
const AUTH_PROMPT_MARGIN_MS = 30_000
const CONNECTION_KEY = /^[\w-]+![\w-]+$/
const isTokenError = (code: number) => code >= 40140 && code < 40150
const attachDenied = () => new HubError(40160, 'Channel denied access based on given capability', 401)

function isFrame(value: unknown): value is Frame {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as Frame).action === 'number'
}

function serialsIn(reply: OutboundFrame): number {
  return reply.res?.reduce((total, result) => total + result.serials.length, 0) ?? 0
}

/** Keeps a reply for re-sent frames, dropping the oldest beyond MAX_REPLIES_KEPT or MAX_REPLY_SERIALS_KEPT. */
function keepReply(session: Session, msgSerial: number, reply: OutboundFrame): void {
  session.replies.set(msgSerial, reply)
  session.repliedSerials += serialsIn(reply)
  for (const [oldest, kept] of session.replies) {
    if (session.replies.size <= MAX_REPLIES_KEPT && session.repliedSerials <= MAX_REPLY_SERIALS_KEPT) break
    session.replies.delete(oldest)
    session.repliedSerials -= serialsIn(kept)
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data)
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data
}

function stringParams(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {}
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'))
}

function permittedModes(capability: Capability, channel: string): number {
  const operations = operationsOn(capability, channel)
  let modes = 0
  if (operations.has('subscribe')) modes |= Mode.SUBSCRIBE | Mode.PRESENCE_SUBSCRIBE
  if (operations.has('publish')) modes |= Mode.PUBLISH
  if (operations.has('presence')) modes |= Mode.PRESENCE
  return modes
}

const REWIND = /^(\d{1,9})(s|m|h)?$/
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 }

function parseRewind(value: string, now: number): { count?: number; sinceTimestamp?: number } | undefined {
  const match = REWIND.exec(value)
  if (!match) return undefined
  const amount = Number(match[1])
  return match[2] ? { sinceTimestamp: now - amount * (UNIT_MS[match[2]] ?? 0) } : { count: Math.min(amount, 100) }
}


/** Creates the realtime endpoint over shared channel state. */
export function createRealtime({
  authority,
  store,
  now,
  log,
  randomId,
  maxMessageSize,
  maxFrameSize,
  connectionStateTtlMs,
  maxIdleIntervalMs,
}: RealtimeOptions): Realtime {
  const links = new Set<Link>()
  const sessions = new Map<string, Session>()
  const subscribers = new Map<string, Set<Session>>()

  const sendEncoded = (link: Link, payload: string | Uint8Array) => {
    if (link.closed || link.ws.readyState !== link.ws.OPEN) return
    link.ws.send(payload)
    link.lastSentAt = now()
    // A client that cannot keep up is dropped; it resumes and catches up from its channelSerial.
    if (link.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      log({ event: 'hub.connection.slow', connectionId: link.session?.id })
      drop(link)
    }
  }

  const send = (link: Link | undefined, frame: OutboundFrame) => {
    if (link) sendEncoded(link, encode(frame, link.format))
  }

  /** Sends one frame to many sockets, encoding it once per format. */
  const sendToAll = (recipients: Iterable<Session>, frameFor: (format: Format) => OutboundFrame) => {
    const encoded = new Map<Format, string | Uint8Array>()
    for (const session of recipients) {
      const link = session.link
      if (!link) continue
      let payload = encoded.get(link.format)
      if (payload === undefined) {
        payload = encode(frameFor(link.format), link.format)
        encoded.set(link.format, payload)
      }
      sendEncoded(link, payload)
    }
  }

  const unsubscribe = (session: Session, channel: string) => {
    session.attachments.delete(channel)
    const set = subscribers.get(channel)
    set?.delete(session)
    if (set?.size === 0) subscribers.delete(channel)
  }

  /** Sessions attached to `channel` with `mode`, less the publisher when it connected with `echo=false`. */
  const recipients = function* (channel: string, mode: number, publisher?: string) {
    for (const session of subscribers.get(channel) ?? []) {
      if (!((session.attachments.get(channel) ?? 0) & mode)) continue
      if (!session.echo && session.id === publisher) continue
      yield session
    }
  }

  const broadcastPresence = (channel: string, events: readonly PresenceEvent[]) => {
    if (events.length === 0) return
    sendToAll(recipients(channel, Mode.PRESENCE_SUBSCRIBE), (format) => ({
      action: Action.PRESENCE,
      channel,
      presence: events.map((event) => presenceToWire(event, format)),
    }))
  }

  /** Removes a connection's presence members (all, or on one channel) and announces their LEAVE. */
  const leavePresence = (session: Session, onlyChannel?: string) => {
    const timestamp = now()
    for (const { channel, member } of store.membersOf(session.id)) {
      if (onlyChannel !== undefined && channel !== onlyChannel) continue
      // An id that does not start with the connectionId marks the LEAVE as synthesized for ably-js.
      const leave = store.applyPresence(channel, {
        ...member,
        action: PresenceAction.LEAVE,
        id: `leave-${member.id}`,
        timestamp,
      })
      broadcastPresence(channel, [leave])
    }
  }

  /** Detaches the socket from its connection state; the state stays for resume. */
  const unlink = (session: Session) => {
    for (const channel of [...session.attachments.keys()]) unsubscribe(session, channel)
    session.link = undefined
    session.disconnectedAt = now()
    session.presenceReleased = false
  }

  const endSession = (session: Session, reason: string) => {
    if (session.link) unlink(session)
    sessions.delete(session.key)
    leavePresence(session)
    log({ event: 'hub.connection.ended', connectionId: session.id, reason })
  }

  const closeLink = (link: Link, abrupt: boolean) => {
    if (link.closed) return
    link.closed = true
    links.delete(link)
    const session = link.session
    if (session?.link === link) unlink(session)
    if (abrupt) link.ws.terminate()
    else link.ws.close(1000)
  }

  const drop = (link: Link) => closeLink(link, true)

  /** Reports a connection-level error and closes the socket; token errors keep state so the client can resume. */
  const fail = (link: Link, error: HubError) => {
    send(link, { action: Action.ERROR, error: toErrorInfo(error) })
    const session = link.session
    closeLink(link, false)
    if (session && !isTokenError(error.code)) endSession(session, `error ${error.code}`)
    log({ event: 'hub.connection.failed', connectionId: session?.id, code: error.code })
  }

  const enqueue = (link: Link, task: () => Promise<void> | void) => {
    if (++link.pending > MAX_QUEUED_FRAMES) {
      log({ event: 'hub.connection.flooded', connectionId: link.session?.id })
      drop(link)
      return
    }
    link.queue = link.queue
      .then(async () => {
        if (!link.closed) await task()
      })
      .catch((error: unknown) => {
        const hubError = asHubError(error)
        if (hubError.code === 50000) log({ event: 'hub.internal_error', message: String(error) })
        if (!link.closed) fail(link, hubError)
      })
      .finally(() => {
        link.pending--
      })
  }

  const expired = (session: Session, time: number) =>
    session.disconnectedAt !== undefined && time - session.disconnectedAt >= connectionStateTtlMs

  const connectionDetails = (session: Session) => ({
    connectionKey: session.key,
    clientId: session.identity.clientId ?? (session.identity.wildcard ? '*' : undefined),
    maxMessageSize,
    maxFrameSize,
    connectionStateTtl: connectionStateTtlMs,
    maxIdleInterval: maxIdleIntervalMs,
    serverId: 'hub',
  })

  const applyCredential = (session: Session, credential: Credential, identity: Identity, { renewal = false } = {}) => {
    const replaced = renewal ? session.credential.expiresAt : undefined
    session.credential = credential
    session.identity = identity
    const { expiresAt } = credential
    // A renewal that does not outlive the token it replaces (the app session behind it is ending) would only be
    // prompted again and again as the end nears: no more prompts, and DISCONNECTED 40142 comes at expiry.
    const extendsLife = expiresAt !== undefined && (replaced === undefined || expiresAt > replaced)
    session.authPromptAt = extendsLife ? expiresAt - Math.min(AUTH_PROMPT_MARGIN_MS, (expiresAt - now()) / 2) : undefined
  }

  const authenticate = (params: URLSearchParams, headers: IncomingHttpHeaders): Promise<Credential> | Credential => {
    const key = params.get('key')
    if (key !== null) return authority.authenticateKey(key)
    const token = params.get('access_token') ?? params.get('accessToken')
    if (token !== null) return authority.authenticateToken(token)
    return authority.authenticateHeader(headers.authorization ?? null)
  }

  const newSession = (credential: Credential, identity: Identity): Session => {
    if (sessions.size >= MAX_SESSIONS) {
      const idle = [...sessions.values()].find((session) => !session.link)
      if (idle) endSession(idle, 'evicted')
    }
    const id = randomId(8)
    const session: Session = {
      id,
      key: `${randomId(18)}!${id}`,
      credential,
      identity,
      echo: true,
      attachments: new Map(),
      replies: new Map(),
      repliedSerials: 0,
      lastMsgSerial: -1,
      presenceReleased: false,
    }
    sessions.set(session.key, session)
    return session
  }

  const open = async (link: Link, params: URLSearchParams, headers: IncomingHttpHeaders) => {
    let credential: Credential
    let identity: Identity
    const requestedClientId = params.get('clientId') ?? undefined
    try {
      credential = await authenticate(params, headers)
      identity = resolveIdentity(credential, requestedClientId)
    } catch (error) {
      fail(link, asHubError(error))
      return
    }
    const resumeKey = params.get('resume') ?? params.get('recover')
    let session: Session | undefined
    let error: HubError | undefined
    if (resumeKey !== null) {
      let candidate = sessions.get(resumeKey)
      // The sweep may not have run yet (e.g. just after a restart), so the TTL is checked here too.
      if (candidate && expired(candidate, now())) {
        endSession(candidate, 'expired')
        candidate = undefined
      }
      const compatible =
        candidate !== undefined &&
        candidate.identity.clientId === identity.clientId &&
        candidate.credential.keyName.split('.')[0] === credential.keyName.split('.')[0]
      if (compatible) session = candidate
      else if (CONNECTION_KEY.test(resumeKey)) error = new HubError(80008, 'Unable to recover connection: connection expired', 400)
      else error = new HubError(80018, 'Invalid connection key', 400)
    }
    if (session?.link) closeLink(session.link, true)
    session ??= newSession(credential, identity)
    applyCredential(session, credential, identity)
    session.requestedClientId = requestedClientId
    session.echo = params.get('echo') !== 'false'
    session.link = link
    session.disconnectedAt = undefined
    link.session = session
    send(link, {
      action: Action.CONNECTED,
      connectionId: session.id,
      connectionKey: session.key,
      connectionDetails: connectionDetails(session),
      error: error && toErrorInfo(error),
    })
    log({
      event: resumeKey !== null && !error ? 'hub.connection.resumed' : 'hub.connection.opened',
      connectionId: session.id,
      clientId: session.identity.clientId,
      keyName: credential.keyName,
      format: link.format,
      resumeFailed: error?.code,
    })
  }

  const publish = (channel: string, messages: readonly InboundMessage[], connectionId?: string): PublishOutcome => {
    const outcome = store.publish(channel, messages, connectionId)
    const last = outcome.stored.at(-1)
    if (!last) return outcome
    sendToAll(recipients(channel, Mode.SUBSCRIBE, connectionId), (format) => ({
      action: Action.MESSAGE,
      channel,
      channelSerial: last.serial,
      messages: outcome.stored.map((message) => messageToWire(message, format)),
    }))
    return outcome
  }

  const deliverOne = (link: Link, channel: string, message: StoredMessage) =>
    send(link, {
      action: Action.MESSAGE,
      channel,
      channelSerial: message.serial,
      messages: [messageToWire(message, link.format)],
    })

  const channelError = (link: Link, channel: string, error: HubError) => {
    send(link, { action: Action.ERROR, channel, error: toErrorInfo(error) })
    log({ event: 'hub.channel.refused', connectionId: link.session?.id, channel, code: error.code })
  }

  const requireChannelField = (frame: Frame): string => {
    if (typeof frame.channel !== 'string') throw new HubError(40000, 'Protocol message needs a channel', 400)
    return frame.channel
  }

  const attach = (link: Link, session: Session, frame: Frame) => {
    const channel = requireChannelField(frame)
    const params = stringParams(frame.params)
    let modes: number
    try {
      assertChannelName(channel)
      const flags = typeof frame.flags === 'number' ? frame.flags : 0
      const requested = (flags & SUPPORTED_MODES) | (params.modes ? modesFromParam(params.modes) : 0)
      modes = (requested || DEFAULT_MODES) & permittedModes(session.credential.capability, channel)
      if (modes === 0) throw attachDenied()
      if (!session.attachments.has(channel) && session.attachments.size >= MAX_CHANNELS_PER_CONNECTION) {
        throw new HubError(90010, 'Maximum number of channels per connection exceeded', 400)
      }
    } catch (error) {
      // A refused re-attach (e.g. after a narrower token) also ends the delivery of the earlier attach.
      unsubscribe(session, channel)
      channelError(link, channel, asHubError(error))
      return
    }
    session.attachments.set(channel, modes)
    const set = subscribers.get(channel) ?? new Set<Session>()
    subscribers.set(channel, set.add(session))

    const fromSerial = typeof frame.channelSerial === 'string' && frame.channelSerial ? frame.channelSerial : undefined
    let resumed = false
    let replay: StoredMessage[] = []
    if (fromSerial !== undefined) {
      const continuity = store.since(channel, fromSerial)
      resumed = continuity.continuous
      if (resumed) replay = continuity.messages
    } else if (params.rewind !== undefined) {
      replay = store.recent(channel, parseRewind(params.rewind, now()) ?? { count: 0 })
    }
    if (!(modes & Mode.SUBSCRIBE)) replay = []
    if (!session.echo) replay = replay.filter((message) => message.connectionId !== session.id)
    const members = modes & Mode.PRESENCE_SUBSCRIBE ? store.members(channel) : []
    const echoedParams = Object.fromEntries(
      Object.entries(params).filter(([name]) => name === 'rewind' || name === 'modes'),
    )
    send(link, {
      action: Action.ATTACHED,
      channel,
      // A resumed attach keeps the client's continuity point; replayed messages then advance it.
      channelSerial: resumed && fromSerial ? fromSerial : store.currentSerial(channel),
      flags:
        modes |
        (resumed ? Flag.RESUMED : 0) |
        (members.length > 0 ? Flag.HAS_PRESENCE : 0) |
        (replay.length > 0 && !resumed ? Flag.HAS_BACKLOG : 0),
      params: Object.keys(echoedParams).length > 0 ? echoedParams : undefined,
    })
    // ably-js drops messages for a channel that is not attached yet, so the replay follows ATTACHED.
    for (const message of replay) deliverOne(link, channel, message)
    if (members.length > 0) {
      send(link, {
        action: Action.SYNC,
        channel,
        channelSerial: `${randomId(6)}:`,
        presence: members.map((member) => presenceToWire(member, link.format, PresenceAction.PRESENT)),
      })
    }
  }

  const detach = (link: Link, session: Session, frame: Frame) => {
    const channel = requireChannelField(frame)
    unsubscribe(session, channel)
    leavePresence(session, channel)
    send(link, { action: Action.DETACHED, channel })
  }

  /** Runs a MESSAGE or PRESENCE frame once per msgSerial and answers in msgSerial order. */
  const acknowledge = (link: Link, session: Session, frame: Frame, run: (msgSerial: number) => OutboundFrame['res']) => {
    const msgSerial = frame.msgSerial
    if (typeof msgSerial !== 'number' || !Number.isSafeInteger(msgSerial) || msgSerial < 0) {
      throw new HubError(40000, 'MESSAGE and PRESENCE need a msgSerial', 400)
    }
    if (msgSerial <= session.lastMsgSerial) {
      send(link, session.replies.get(msgSerial) ?? { action: Action.ACK, msgSerial, count: 1 })
      return
    }
    session.lastMsgSerial = msgSerial
    let reply: OutboundFrame
    try {
      reply = { action: Action.ACK, msgSerial, count: 1, res: run(msgSerial) }
    } catch (error) {
      const hubError = asHubError(error)
      if (hubError.code === 50000) log({ event: 'hub.internal_error', message: String(error) })
      log({ event: 'hub.publish.refused', connectionId: session.id, channel: frame.channel, code: hubError.code })
      reply = { action: Action.NACK, msgSerial, count: 1, error: toErrorInfo(hubError) }
    }
    keepReply(session, msgSerial, reply)
    send(link, reply)
  }

  const publishFrame = (session: Session, frame: Frame, msgSerial: number) => {
    const channel = assertChannelName(frame.channel)
    assertPermitted(session.credential.capability, channel, 'publish')
    if (!Array.isArray(frame.messages)) throw new HubError(40000, 'MESSAGE needs messages', 400)
    const messages = parseMessages(frame.messages)
    assertPublishSize(messages, maxMessageSize)
    const prepared = messages.map((message, index) => ({
      ...message,
      id: message.id ?? `${session.id}:${msgSerial}:${index}`,
      clientId: effectiveClientId(session.identity, message.clientId),
    }))
    return [{ serials: publish(channel, prepared, session.id).serials }]
  }

  const presenceFrame = (session: Session, frame: Frame, msgSerial: number) => {
    const channel = assertChannelName(frame.channel)
    assertPermitted(session.credential.capability, channel, 'presence')
    const events = parsePresence(frame.presence)
    assertPublishSize(events, maxMessageSize)
    const timestamp = now()
    const prepared = events.map((event, index) => {
      const clientId = effectiveClientId(session.identity, event.clientId)
      if (!clientId) throw new HubError(91000, 'Presence requires a clientId', 400)
      const action = event.action === PresenceAction.PRESENT ? PresenceAction.ENTER : event.action
      return { ...event, action, clientId, connectionId: session.id, id: `${session.id}:${msgSerial}:${index}`, timestamp }
    })
    broadcastPresence(channel, prepared.map((event) => store.applyPresence(channel, event)))
    return undefined
  }

  const reauthorize = async (link: Link, session: Session, frame: Frame) => {
    const { auth } = frame
    const token = typeof auth === 'object' && auth !== null ? (auth as Record<string, unknown>).accessToken : undefined
    if (typeof token !== 'string') throw new HubError(40101, 'AUTH needs an accessToken', 401)
    let credential: Credential
    try {
      credential = await authority.authenticateToken(token)
    } catch (error) {
      const hubError = asHubError(error)
      throw hubError.code === 40142 ? hubError : new HubError(40101, 'Invalid token on re-authentication', 401)
    }
    const identity = resolveIdentity(credential, session.requestedClientId)
    if (identity.clientId !== session.identity.clientId) {
      throw new HubError(40102, 'Re-authentication may not change the clientId', 401)
    }
    applyCredential(session, credential, identity, { renewal: true })
    for (const [channel, modes] of [...session.attachments]) {
      const kept = modes & permittedModes(credential.capability, channel)
      if (kept) session.attachments.set(channel, kept)
      else {
        unsubscribe(session, channel)
        channelError(link, channel, attachDenied())
      }
    }
    send(link, { action: Action.CONNECTED, connectionId: session.id, connectionKey: session.key, connectionDetails: connectionDetails(session) })
    log({ event: 'hub.connection.reauthorized', connectionId: session.id })
  }

  const onFrame = async (link: Link, data: RawData) => {
    const session = link.session
    if (!session) return
    const frame = decode(toBytes(data), link.format)
    if (!isFrame(frame)) throw new HubError(40000, 'Malformed protocol message', 400)
    switch (frame.action) {
      case Action.HEARTBEAT:
        send(link, { action: Action.HEARTBEAT, id: typeof frame.id === 'string' ? frame.id : undefined })
        return
      case Action.ATTACH:
        return attach(link, session, frame)
      case Action.DETACH:
        return detach(link, session, frame)
      case Action.MESSAGE:
        return acknowledge(link, session, frame, (msgSerial) => publishFrame(session, frame, msgSerial))
      case Action.PRESENCE:
        return acknowledge(link, session, frame, (msgSerial) => presenceFrame(session, frame, msgSerial))
      case Action.AUTH:
        return reauthorize(link, session, frame)
      case Action.CLOSE:
        send(link, { action: Action.CLOSED })
        closeLink(link, false)
        endSession(session, 'closed')
        return
      case Action.DISCONNECT:
        closeLink(link, false)
        return
      default:
        // Unknown and unsupported actions (objects, annotations) are ignored, as ably-js ignores ours.
        return
    }
  }

  const accept = (ws: WebSocket, url: URL, headers: IncomingHttpHeaders) => {
    const link: Link = {
      ws,
      format: url.searchParams.get('format') === 'msgpack' ? 'msgpack' : 'json',
      queue: Promise.resolve(),
      pending: 0,
      lastSentAt: now(),
      closed: false,
    }
    links.add(link)
    ws.on('message', (data) => enqueue(link, () => onFrame(link, data)))
    ws.on('close', () => closeLink(link, true))
    ws.on('error', (error) => log({ event: 'hub.socket.error', connectionId: link.session?.id, message: error.message }))
    enqueue(link, () => open(link, url.searchParams, headers))
  }

  const dropAll = () => {
    for (const link of [...links]) drop(link)
  }

  const sweep = () => {
    const time = now()
    for (const session of [...sessions.values()]) {
      const link = session.link
      if (link) {
        const { expiresAt } = session.credential
        if (expiresAt !== undefined && time >= expiresAt) {
          send(link, {
            action: Action.DISCONNECTED,
            error: toErrorInfo(new HubError(40142, 'Token expired', 401)),
          })
          closeLink(link, false)
          log({ event: 'hub.connection.token_expired', connectionId: session.id })
          continue
        }
        if (session.authPromptAt !== undefined && time >= session.authPromptAt) {
          session.authPromptAt = undefined
          send(link, { action: Action.AUTH })
        }
        if (maxIdleIntervalMs > 0 && time - link.lastSentAt >= maxIdleIntervalMs) send(link, { action: Action.HEARTBEAT })
        continue
      }
      if (expired(session, time)) endSession(session, 'expired')
      else if (time - (session.disconnectedAt ?? time) >= PRESENCE_GRACE_MS && !session.presenceReleased) {
        session.presenceReleased = true
        leavePresence(session)
      }
    }
    store.prune()
  }

  const occupancy = (channel: string): ChannelMetrics => {
    const counts: ChannelMetrics = {
      connections: 0,
      presenceConnections: 0,
      presenceMembers: store.members(channel).length,
      presenceSubscribers: 0,
      publishers: 0,
      subscribers: 0,
    }
    for (const session of subscribers.get(channel) ?? []) {
      const modes = session.attachments.get(channel) ?? 0
      counts.connections++
      if (modes & Mode.PRESENCE) counts.presenceConnections++
      if (modes & Mode.PRESENCE_SUBSCRIBE) counts.presenceSubscribers++
      if (modes & Mode.PUBLISH) counts.publishers++
      if (modes & Mode.SUBSCRIBE) counts.subscribers++
    }
    return counts
  }

  return { accept, publish, occupancy, dropAll, sweep }
}
