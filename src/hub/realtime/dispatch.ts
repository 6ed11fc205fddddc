/**
 * Frame dispatch: takes over an upgraded socket, runs its frames one at a time in arrival order, routes each
 * action to its concern, and acknowledges MESSAGE and PRESENCE once per msgSerial.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { RawData, WebSocket } from 'ws'
import { decode } from '../codec.ts'
import { asHubError, HubError, toErrorInfo } from '../errors.ts'
import { FATAL_RATE_CODE } from '../limits.ts'
import { Action, type OutboundFrame } from '../protocol.ts'
import { attach, detach, publishFrame } from './attachments.ts'
import { answerSyncRequest, applyPresenceFrame } from './presence.ts'
import { endSession, failLink, openConnection, reauthorize } from './sessions.ts'
import { closeLink, send, type Frame, type Link, type RealtimeState, type Session } from './state.ts'

const MAX_REPLIES_KEPT = 1000
// Enough for ably-js, which sends one publish per frame while connected, and for two of the largest frames.
const MAX_REPLY_SERIALS_KEPT = 2000
const MAX_QUEUED_FRAMES = 1000

function isFrame(value: unknown): value is Frame {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as Frame).action === 'number'
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data)
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data
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

/** Runs a MESSAGE or PRESENCE frame once per msgSerial and answers in msgSerial order. */
function acknowledge(state: RealtimeState, link: Link, session: Session, frame: Frame, run: (msgSerial: number) => OutboundFrame['res']): void {
  const msgSerial = frame.msgSerial
  if (typeof msgSerial !== 'number' || !Number.isSafeInteger(msgSerial) || msgSerial < 0) {
    throw new HubError(40000, 'MESSAGE and PRESENCE need a msgSerial', 400)
  }
  if (msgSerial <= session.lastMsgSerial) {
    send(state, link, session.replies.get(msgSerial) ?? { action: Action.ACK, msgSerial, count: 1 })
    return
  }
  session.lastMsgSerial = msgSerial
  let reply: OutboundFrame
  try {
    reply = { action: Action.ACK, msgSerial, count: 1, res: run(msgSerial) }
  } catch (error) {
    const hubError = asHubError(error)
    // Far over the inbound rate (42921) Ably closes the connection rather than refusing the message.
    if (hubError.code === FATAL_RATE_CODE) throw hubError
    if (hubError.code === 50000) state.log({ event: 'hub.internal_error', message: String(error) })
    state.log({ event: 'hub.publish.refused', connectionId: session.id, channel: frame.channel, code: hubError.code })
    reply = { action: Action.NACK, msgSerial, count: 1, error: toErrorInfo(hubError) }
  }
  keepReply(session, msgSerial, reply)
  send(state, link, reply)
}

async function onFrame(state: RealtimeState, link: Link, data: RawData): Promise<void> {
  const session = link.session
  if (!session) return
  const frame = decode(toBytes(data), link.format)
  if (!isFrame(frame)) throw new HubError(40000, 'Malformed protocol message', 400)
  switch (frame.action) {
    case Action.HEARTBEAT:
      send(state, link, { action: Action.HEARTBEAT, id: typeof frame.id === 'string' ? frame.id : undefined })
      return
    case Action.ATTACH:
      return attach(state, link, session, frame)
    case Action.DETACH:
      return detach(state, link, session, frame)
    case Action.MESSAGE:
      return acknowledge(state, link, session, frame, (msgSerial) => publishFrame(state, session, frame, msgSerial))
    case Action.PRESENCE:
      return acknowledge(state, link, session, frame, (msgSerial) => applyPresenceFrame(state, session, frame, msgSerial))
    case Action.SYNC:
      return answerSyncRequest(state, link, session, frame)
    case Action.AUTH:
      return reauthorize(state, link, session, frame)
    case Action.CLOSE:
      send(state, link, { action: Action.CLOSED })
      closeLink(state, link, false)
      endSession(state, session, 'closed')
      return
    case Action.DISCONNECT:
      closeLink(state, link, false)
      return
    default:
      // Unknown and unsupported actions (objects, annotations) are ignored, as ably-js ignores ours.
      return
  }
}

/** Queues work on a socket so its frames run in order; a client that floods the queue is dropped. */
function enqueue(state: RealtimeState, link: Link, task: () => Promise<void> | void): void {
  if (++link.pending > MAX_QUEUED_FRAMES) {
    state.log({ event: 'hub.connection.flooded', connectionId: link.session?.id })
    closeLink(state, link, true)
    return
  }
  link.queue = link.queue
    .then(async () => {
      if (!link.closed) await task()
    })
    .catch((error: unknown) => {
      const hubError = asHubError(error)
      if (hubError.code === 50000) state.log({ event: 'hub.internal_error', message: String(error) })
      if (!link.closed) failLink(state, link, hubError)
    })
    .finally(() => {
      link.pending--
    })
}

/** Takes over an upgraded socket; the connection is authenticated over the protocol, never refused at upgrade. */
export function acceptSocket(state: RealtimeState, ws: WebSocket, url: URL, headers: IncomingHttpHeaders): void {
  const link: Link = {
    ws,
    format: url.searchParams.get('format') === 'msgpack' ? 'msgpack' : 'json',
    queue: Promise.resolve(),
    pending: 0,
    lastSentAt: state.now(),
    closed: false,
  }
  state.links.add(link)
  ws.on('message', (data) => enqueue(state, link, () => onFrame(state, link, data)))
  ws.on('close', () => closeLink(state, link, true))
  ws.on('error', (error) => state.log({ event: 'hub.socket.error', connectionId: link.session?.id, message: error.message }))
  enqueue(state, link, () => openConnection(state, link, url.searchParams, headers))
}
