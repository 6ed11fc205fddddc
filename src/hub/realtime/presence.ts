/** Presence over realtime: entering, updating and leaving, the LEAVE of departed connections, and SYNC on attach. */
import { effectiveClientId } from '../auth.ts'
import { assertPermitted } from '../capability.ts'
import { HubError } from '../errors.ts'
import { assertChannelName, assertPublishSize, parsePresence, presenceToWire, type PresenceEvent } from '../messages.ts'
import { MAX_PRESENCE_MEMBERS } from '../limits.ts'
import { Action, Mode, PresenceAction } from '../protocol.ts'
import { recipients, send, sendToAll, type Frame, type Link, type RealtimeState, type Session } from './state.ts'

/** Sends presence events to every connection attached to `channel` with presence_subscribe. */
function broadcastPresence(state: RealtimeState, channel: string, events: readonly PresenceEvent[]): void {
  if (events.length === 0) return
  sendToAll(state, recipients(state, channel, Mode.PRESENCE_SUBSCRIBE), (format, name) => ({
    action: Action.PRESENCE,
    channel: name,
    presence: events.map((event) => presenceToWire(event, format)),
  }))
}

/** Removes a connection's presence members (all, or on one channel) and announces their LEAVE. */
export function leavePresence(state: RealtimeState, session: Session, onlyChannel?: string): void {
  const timestamp = state.now()
  for (const { channel, member } of state.store.membersOf(session.id)) {
    if (onlyChannel !== undefined && channel !== onlyChannel) continue
    // An id that does not start with the connectionId marks the LEAVE as synthesized for ably-js.
    const leave = state.store.applyPresence(channel, {
      ...member,
      action: PresenceAction.LEAVE,
      id: `leave-${member.id}`,
      timestamp,
    })
    broadcastPresence(state, channel, [leave])
  }
}

/** Refuses with 91003 events that would take the channel past Ably's limit of present members. */
function assertRoomForMembers(state: RealtimeState, channel: string, session: Session, events: readonly { action: number; clientId: string }[]): void {
  const present = new Set(state.store.members(channel).map((member) => `${member.connectionId}\n${member.clientId}`))
  for (const { action, clientId } of events) {
    const member = `${session.id}\n${clientId}`
    if (action === PresenceAction.LEAVE) present.delete(member)
    else present.add(member)
  }
  if (present.size > MAX_PRESENCE_MEMBERS) {
    throw new HubError(91003, `Unable to enter member to presence channel; maximum number of ${MAX_PRESENCE_MEMBERS} members exceeded`, 400)
  }
}

/** Applies a PRESENCE frame's events as the session's connection; the caller acknowledges it. */
export function applyPresenceFrame(state: RealtimeState, session: Session, frame: Frame, msgSerial: number): undefined {
  // A qualified name (`[?rewind=1]room`) enters presence on the channel it reads.
  const attachment = typeof frame.channel === 'string' ? session.attachments.get(frame.channel) : undefined
  const channel = attachment?.base ?? assertChannelName(frame.channel)
  assertPermitted(session.credential.capability, channel, 'presence')
  if (attachment && !(attachment.modes & Mode.PRESENCE)) {
    throw new HubError(40160, 'Presence is not permitted: the channel was attached without the presence mode', 401)
  }
  const events = parsePresence(frame.presence)
  const timestamp = state.now()
  const prepared = events.map((event, index) => {
    const clientId = effectiveClientId(session.identity, event.clientId)
    if (!clientId) throw new HubError(91000, 'Presence requires a clientId', 400)
    const action = event.action === PresenceAction.PRESENT ? PresenceAction.ENTER : event.action
    return { ...event, action, clientId, connectionId: session.id, id: `${session.id}:${msgSerial}:${index}`, timestamp }
  })
  // A presence message always carries its clientId, so its size counts it even when the client left it implicit.
  assertPublishSize(prepared, state.maxMessageSize)
  assertRoomForMembers(state, channel, session, prepared)
  // Presence counts against the connection's inbound rate exactly as published messages do.
  session.limitInbound(prepared.length)
  broadcastPresence(
    state,
    channel,
    prepared.map((event) => state.store.applyPresence(channel, event)),
  )
  return undefined
}

/** Sends the channel's current members as one SYNC. */
export function syncPresence(state: RealtimeState, link: Link, channel: string, members: readonly PresenceEvent[]): void {
  send(state, link, {
    action: Action.SYNC,
    channel,
    channelSerial: `${state.randomId(6)}:`,
    presence: members.map((member) => presenceToWire(member, link.format, PresenceAction.PRESENT)),
  })
}

/** Answers a SYNC the client asks for (ably-js resumes an interrupted sync so) with the current members. */
export function answerSyncRequest(state: RealtimeState, link: Link, session: Session, frame: Frame): void {
  const name = typeof frame.channel === 'string' ? frame.channel : undefined
  const attachment = name === undefined ? undefined : session.attachments.get(name)
  if (!attachment || !(attachment.modes & Mode.PRESENCE_SUBSCRIBE)) return
  syncPresence(state, link, attachment.name, state.store.members(attachment.base))
}
