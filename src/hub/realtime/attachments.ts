/** Attachments and fan-out: attach (with resume and rewind), detach, publish to attached subscribers, occupancy. */
import type { ChannelMetrics } from 'ably'
import { effectiveClientId } from '../auth.ts'
import { assertPermitted, operationsOn, type Capability } from '../capability.ts'
import type { PublishOutcome } from '../channels.ts'
import { asHubError, HubError, toErrorInfo } from '../errors.ts'
import {
  assertChannelName,
  assertPublishSize,
  messageToWire,
  parseMessages,
  type InboundMessage,
  type StoredMessage,
} from '../messages.ts'
import { Action, DEFAULT_MODES, Flag, Mode, modesFromParam, SUPPORTED_MODES } from '../protocol.ts'
import { leavePresence, syncPresence } from './presence.ts'
import { recipients, send, sendToAll, unsubscribe, type Frame, type Link, type RealtimeState, type Session } from './state.ts'

const MAX_CHANNELS_PER_CONNECTION = 200
const REWIND = /^(\d{1,9})(s|m|h)?$/
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 }

/** The refusal of an attach, or of an attachment a narrower token no longer allows. */
export const attachDenied = () => new HubError(40160, 'Channel denied access based on given capability', 401)

/** The channel modes a capability allows on a channel. */
export function permittedModes(capability: Capability, channel: string): number {
  const operations = operationsOn(capability, channel)
  let modes = 0
  if (operations.has('subscribe')) modes |= Mode.SUBSCRIBE | Mode.PRESENCE_SUBSCRIBE
  if (operations.has('publish')) modes |= Mode.PUBLISH
  if (operations.has('presence')) modes |= Mode.PRESENCE
  return modes
}

function parseRewind(value: string, now: number): { count?: number; sinceTimestamp?: number } | undefined {
  const match = REWIND.exec(value)
  if (!match) return undefined
  const amount = Number(match[1])
  return match[2] ? { sinceTimestamp: now - amount * (UNIT_MS[match[2]] ?? 0) } : { count: Math.min(amount, 100) }
}

function stringParams(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {}
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'))
}

function requireChannelField(frame: Frame): string {
  if (typeof frame.channel !== 'string') throw new HubError(40000, 'Protocol message needs a channel', 400)
  return frame.channel
}

/** Reports a channel-level error (the connection stays up). */
export function channelError(state: RealtimeState, link: Link, channel: string, error: HubError): void {
  send(state, link, { action: Action.ERROR, channel, error: toErrorInfo(error) })
  state.log({ event: 'hub.channel.refused', connectionId: link.session?.id, channel, code: error.code })
}

/** Stores messages and delivers them to every attached subscriber (less an `echo=false` publisher). */
export function publish(
  state: RealtimeState,
  channel: string,
  messages: readonly InboundMessage[],
  connectionId?: string,
): PublishOutcome {
  const outcome = state.store.publish(channel, messages, connectionId)
  const last = outcome.stored.at(-1)
  if (!last) return outcome
  sendToAll(state, recipients(state, channel, Mode.SUBSCRIBE, connectionId), (format) => ({
    action: Action.MESSAGE,
    channel,
    channelSerial: last.serial,
    messages: outcome.stored.map((message) => messageToWire(message, format)),
  }))
  return outcome
}

/** Publishes a MESSAGE frame's messages as the session's connection; the caller acknowledges it. */
export function publishFrame(state: RealtimeState, session: Session, frame: Frame, msgSerial: number) {
  const channel = assertChannelName(frame.channel)
  assertPermitted(session.credential.capability, channel, 'publish')
  if (!Array.isArray(frame.messages)) throw new HubError(40000, 'MESSAGE needs messages', 400)
  const messages = parseMessages(frame.messages)
  assertPublishSize(messages, state.maxMessageSize)
  const prepared = messages.map((message, index) => ({
    ...message,
    id: message.id ?? `${session.id}:${msgSerial}:${index}`,
    clientId: effectiveClientId(session.identity, message.clientId),
  }))
  return [{ serials: publish(state, channel, prepared, session.id).serials }]
}

function deliverOne(state: RealtimeState, link: Link, channel: string, message: StoredMessage): void {
  send(state, link, {
    action: Action.MESSAGE,
    channel,
    channelSerial: message.serial,
    messages: [messageToWire(message, link.format)],
  })
}

/** Answers an ATTACH: grants modes, resumes from the client's channelSerial or rewinds, then syncs presence. */
export function attach(state: RealtimeState, link: Link, session: Session, frame: Frame): void {
  const { store } = state
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
    unsubscribe(state, session, channel)
    channelError(state, link, channel, asHubError(error))
    return
  }
  session.attachments.set(channel, modes)
  const set = state.subscribers.get(channel) ?? new Set<Session>()
  state.subscribers.set(channel, set.add(session))

  const fromSerial = typeof frame.channelSerial === 'string' && frame.channelSerial ? frame.channelSerial : undefined
  let resumed = false
  let replay: StoredMessage[] = []
  if (fromSerial !== undefined) {
    const continuity = store.since(channel, fromSerial)
    resumed = continuity.continuous
    if (resumed) replay = continuity.messages
  } else if (params.rewind !== undefined) {
    replay = store.recent(channel, parseRewind(params.rewind, state.now()) ?? { count: 0 })
  }
  if (!(modes & Mode.SUBSCRIBE)) replay = []
  if (!session.echo) replay = replay.filter((message) => message.connectionId !== session.id)
  const members = modes & Mode.PRESENCE_SUBSCRIBE ? store.members(channel) : []
  const echoedParams = Object.fromEntries(Object.entries(params).filter(([name]) => name === 'rewind' || name === 'modes'))
  send(state, link, {
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
  for (const message of replay) deliverOne(state, link, channel, message)
  if (members.length > 0) syncPresence(state, link, channel, members)
}

/** Answers a DETACH; the connection's presence on the channel leaves. */
export function detach(state: RealtimeState, link: Link, session: Session, frame: Frame): void {
  const channel = requireChannelField(frame)
  unsubscribe(state, session, channel)
  leavePresence(state, session, channel)
  send(state, link, { action: Action.DETACHED, channel })
}

/** Narrows a session's attachments to a new capability; channels it no longer allows are refused. */
export function narrowAttachments(state: RealtimeState, link: Link, session: Session, capability: Capability): void {
  for (const [channel, modes] of [...session.attachments]) {
    const kept = modes & permittedModes(capability, channel)
    if (kept) session.attachments.set(channel, kept)
    else {
      unsubscribe(state, session, channel)
      channelError(state, link, channel, attachDenied())
    }
  }
}

/** Channel occupancy as Ably's channel status reports it. */
export function occupancy(state: RealtimeState, channel: string): ChannelMetrics {
  const counts: ChannelMetrics = {
    connections: 0,
    presenceConnections: 0,
    presenceMembers: state.store.members(channel).length,
    presenceSubscribers: 0,
    publishers: 0,
    subscribers: 0,
  }
  for (const session of state.subscribers.get(channel) ?? []) {
    const modes = session.attachments.get(channel) ?? 0
    counts.connections++
    if (modes & Mode.PRESENCE) counts.presenceConnections++
    if (modes & Mode.PRESENCE_SUBSCRIBE) counts.presenceSubscribers++
    if (modes & Mode.PUBLISH) counts.publishers++
    if (modes & Mode.SUBSCRIBE) counts.subscribers++
  }
  return counts
}
