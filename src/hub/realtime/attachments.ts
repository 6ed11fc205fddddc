/** Attachments and fan-out: attach (with resume and rewind), detach, publish to attached subscribers, occupancy. */
import type { ChannelMetrics } from 'ably'
import { effectiveClientId } from '../auth.ts'
import { assertPermitted, operationsOn, type Capability } from '../capability.ts'
import type { PublishOutcome } from '../channels.ts'
import { asHubError, HubError, toErrorInfo } from '../errors.ts'
import { assertChannelName, assertPublishSize, messageToWire, parseMessages, type InboundMessage, type StoredMessage } from '../messages.ts'
import type { Format } from '../codec.ts'
import { Action, DEFAULT_MODES, Flag, Mode, modesFromParam, SUPPORTED_MODES, type OutboundFrame } from '../protocol.ts'
import { leavePresence, syncPresence } from './presence.ts'
import { parseQualifiedName } from './qualifiers.ts'
import { recipients, send, sendToAll, unsubscribe, type Attachment, type Frame, type Link, type RealtimeState, type Session } from './state.ts'

const MAX_CHANNELS_PER_CONNECTION = 200
const REWIND = /^(\d{1,9})(s|m|h)?$/
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 }

/** The refusal of an attach, or of an attachment a narrower token no longer allows. */
const attachDenied = () => new HubError(40160, 'Channel denied access based on given capability', 401)

/** The channel modes a capability allows on a channel. */
function permittedModes(capability: Capability, channel: string): number {
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

/** Channel params as strings; ably-js sends what the app gave, so `rewind: 1` arrives as a number. */
function stringParams(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {}
  const params: Record<string, string> = {}
  for (const [name, param] of Object.entries(value)) {
    if (typeof param === 'string') params[name] = param
    else if ((typeof param === 'number' && Number.isFinite(param)) || typeof param === 'boolean') params[name] = String(param)
  }
  return params
}

function requireChannelField(frame: Frame): string {
  if (typeof frame.channel !== 'string') throw new HubError(40000, 'Protocol message needs a channel', 400)
  return frame.channel
}

/** Reports a channel-level error (the connection stays up). */
function channelError(state: RealtimeState, link: Link, channel: string, error: HubError): void {
  send(state, link, { action: Action.ERROR, channel, error: toErrorInfo(error) })
  state.log({ event: 'hub.channel.refused', connectionId: link.session?.id, channel, code: error.code })
}

function messageFrame(channel: string, messages: readonly StoredMessage[], format: Format): OutboundFrame {
  return {
    action: Action.MESSAGE,
    channel,
    channelSerial: messages.at(-1)?.serial,
    messages: messages.map((message) => messageToWire(message, format)),
  }
}

/** Stores messages and delivers them to every attached subscriber (less an `echo=false` publisher). */
export function publish(state: RealtimeState, channel: string, messages: readonly InboundMessage[], connectionId?: string): PublishOutcome {
  const outcome = state.store.publish(channel, messages, connectionId)
  if (outcome.stored.length === 0) return outcome
  const plain: Attachment[] = []
  for (const attachment of recipients(state, channel, Mode.SUBSCRIBE, connectionId)) {
    if (!attachment.filter) {
      plain.push(attachment)
      continue
    }
    const selected = outcome.stored.filter(attachment.filter)
    const link = attachment.session.link
    if (selected.length > 0 && link) send(state, link, messageFrame(attachment.name, selected, link.format))
  }
  sendToAll(state, plain, (format, name) => messageFrame(name, outcome.stored, format))
  return outcome
}

/** Publishes a MESSAGE frame's messages as the session's connection; the caller acknowledges it. */
export function publishFrame(state: RealtimeState, session: Session, frame: Frame, msgSerial: number) {
  const attachment = typeof frame.channel === 'string' ? session.attachments.get(frame.channel) : undefined
  if (attachment?.filter) throw new HubError(40160, 'A filtered (derived) channel is subscribe-only', 401)
  const channel = attachment?.base ?? assertChannelName(frame.channel)
  assertPermitted(session.credential.capability, channel, 'publish')
  if (!Array.isArray(frame.messages)) throw new HubError(40000, 'MESSAGE needs messages', 400)
  const messages = parseMessages(frame.messages)
  assertPublishSize(messages, state.maxMessageSize)
  session.limitInbound(messages.length)
  // A connectionKey means something only to REST; over realtime the publisher is the connection itself.
  const prepared = messages.map(({ connectionKey: _ignored, ...message }, index) => ({
    ...message,
    id: message.id ?? `${session.id}:${msgSerial}:${index}`,
    clientId: effectiveClientId(session.identity, message.clientId),
  }))
  return [{ serials: publish(state, channel, prepared, session.id).serials }]
}

/** Answers an ATTACH: grants modes, resumes from the client's channelSerial or rewinds, then syncs presence. */
export function attach(state: RealtimeState, link: Link, session: Session, frame: Frame): void {
  const { store } = state
  const name = requireChannelField(frame)
  let attachment: Attachment
  let params: Record<string, string>
  try {
    const qualified = parseQualifiedName(name)
    params = { ...qualified.params, ...stringParams(frame.params) }
    const flags = typeof frame.flags === 'number' ? frame.flags : 0
    // As on Ably, a `modes` channel param replaces the mode flags rather than adding to them.
    const requested = params.modes !== undefined ? modesFromParam(params.modes) : flags & SUPPORTED_MODES
    // A derived (filtered) channel is for subscribing only.
    const allowed = qualified.filter ? Mode.SUBSCRIBE : SUPPORTED_MODES
    const modes = (requested || DEFAULT_MODES) & allowed & permittedModes(session.credential.capability, qualified.base)
    if (modes === 0) throw attachDenied()
    if (!session.attachments.has(name) && session.attachments.size >= MAX_CHANNELS_PER_CONNECTION) {
      throw new HubError(90010, 'Maximum number of channels per connection exceeded', 400)
    }
    attachment = { session, name, base: qualified.base, modes, filter: qualified.filter }
  } catch (error) {
    // A refused re-attach (e.g. after a narrower token) also ends the delivery of the earlier attach.
    unsubscribe(state, session, name)
    channelError(state, link, name, asHubError(error))
    return
  }
  unsubscribe(state, session, name)
  session.attachments.set(name, attachment)
  const { base, modes } = attachment
  const set = state.subscribers.get(base) ?? new Set<Attachment>()
  state.subscribers.set(base, set.add(attachment))

  const fromSerial = typeof frame.channelSerial === 'string' && frame.channelSerial ? frame.channelSerial : undefined
  let resumed = false
  let replay: StoredMessage[] = []
  if (fromSerial !== undefined) {
    const continuity = store.since(base, fromSerial)
    resumed = continuity.continuous
    if (resumed) replay = continuity.messages
  } else if (params.rewind !== undefined) {
    replay = store.recent(base, parseRewind(params.rewind, state.now()) ?? { count: 0 })
  }
  if (!(modes & Mode.SUBSCRIBE)) replay = []
  if (!session.echo) replay = replay.filter((message) => message.connectionId !== session.id)
  if (attachment.filter) replay = replay.filter(attachment.filter)
  const members = modes & Mode.PRESENCE_SUBSCRIBE ? store.members(base) : []
  const echoedParams = Object.fromEntries(Object.entries(params).filter(([param]) => param === 'rewind' || param === 'modes'))
  send(state, link, {
    action: Action.ATTACHED,
    channel: name,
    // A resumed attach keeps the client's continuity point; replayed messages then advance it.
    channelSerial: resumed && fromSerial ? fromSerial : store.currentSerial(base),
    flags: modes | (resumed ? Flag.RESUMED : 0) | (members.length > 0 ? Flag.HAS_PRESENCE : 0) | (replay.length > 0 && !resumed ? Flag.HAS_BACKLOG : 0),
    params: Object.keys(echoedParams).length > 0 ? echoedParams : undefined,
  })
  // ably-js drops messages for a channel that is not attached yet, so the replay follows ATTACHED.
  for (const message of replay) send(state, link, messageFrame(name, [message], link.format))
  if (members.length > 0) syncPresence(state, link, name, members)
}

/** Answers a DETACH; the connection's presence on the channel leaves. */
export function detach(state: RealtimeState, link: Link, session: Session, frame: Frame): void {
  const name = requireChannelField(frame)
  const attachment = session.attachments.get(name)
  unsubscribe(state, session, name)
  if (!attachment?.filter) leavePresence(state, session, attachment?.base ?? name)
  send(state, link, { action: Action.DETACHED, channel: name })
}

/** Narrows a session's attachments to a new capability; channels it no longer allows are refused. */
export function narrowAttachments(state: RealtimeState, link: Link, session: Session, capability: Capability): void {
  for (const attachment of [...session.attachments.values()]) {
    attachment.modes &= permittedModes(capability, attachment.base)
    if (attachment.modes) continue
    unsubscribe(state, session, attachment.name)
    channelError(state, link, attachment.name, attachDenied())
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
  for (const { modes } of state.subscribers.get(channel) ?? []) {
    counts.connections++
    if (modes & Mode.PRESENCE) counts.presenceConnections++
    if (modes & Mode.PRESENCE_SUBSCRIBE) counts.presenceSubscribers++
    if (modes & Mode.PUBLISH) counts.publishers++
    if (modes & Mode.SUBSCRIBE) counts.subscribers++
  }
  return counts
}
