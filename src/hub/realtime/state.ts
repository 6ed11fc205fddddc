/**
 * The realtime side's one state object (sockets, connection state, channel subscribers and the hub's
 * services) and the delivery primitives every concern shares: sending, fan-out and closing a socket.
 */
import type { WebSocket } from 'ws'
import type { Authority, Credential, Identity } from '../auth.ts'
import type { ChannelStore } from '../channels.ts'
import { encode, type Format } from '../codec.ts'
import type { StoredMessage } from '../messages.ts'
import type { OutboundFrame } from '../protocol.ts'

export type LogLine = (line: Record<string, unknown>) => void

export interface RealtimeOptions {
  authority: Authority
  store: ChannelStore
  now: () => number
  log: LogLine
  randomId: (bytes: number) => string
  maxMessageSize: number
  /** Messages (and presence events) a connection may send per second; see ../limits.ts. */
  maxInboundRate: number
  maxFrameSize: number
  connectionStateTtlMs: number
  maxIdleIntervalMs: number
}

/** One WebSocket, and the connection state it carries once authenticated. */
export interface Link {
  ws: WebSocket
  format: Format
  session?: Session
  queue: Promise<void>
  pending: number
  lastSentAt: number
  closed: boolean
}

/** A connection's state, kept across sockets for resume until `connectionStateTtlMs` after it dropped. */
export interface Session {
  id: string
  key: string
  credential: Credential
  identity: Identity
  requestedClientId?: string
  echo: boolean
  link?: Link
  /** By the channel name the client attached with, while a socket is linked. */
  attachments: Map<string, Attachment>
  /** Replies to recent msgSerials, re-sent when a resumed client re-sends an unacknowledged frame. */
  replies: Map<number, OutboundFrame>
  /** Serials listed in `replies`, which is what their memory grows with. */
  repliedSerials: number
  lastMsgSerial: number
  /** Counts messages and presence events against the connection's inbound rate; throws 42911 or 42921. */
  limitInbound: (count: number) => void
  disconnectedAt?: number
  presenceReleased: boolean
  authPromptAt?: number
}

/** One attach of a session: the name the client used, the channel it reads, and what it was granted. */
export interface Attachment {
  session: Session
  /** As the client named it, e.g. `[filter=…]orders`; frames to the client carry this name. */
  name: string
  /** The channel whose messages and presence it reads, e.g. `orders`. */
  base: string
  modes: number
  /** A derived channel's filter: only the messages it selects are delivered. */
  filter?: (message: StoredMessage) => boolean
}

/** An inbound ProtocolMessage once decoded: an object with a numeric action, every other field unchecked. */
export interface Frame {
  action: number
  [field: string]: unknown
}

export interface RealtimeState extends RealtimeOptions {
  links: Set<Link>
  /** By connection key. */
  sessions: Map<string, Session>
  /** Channel → the attachments that read it. */
  subscribers: Map<string, Set<Attachment>>
}

const MAX_BUFFERED_BYTES = 16 * 1024 * 1024

/** The state of a realtime endpoint with no connections yet. */
export function createState(options: RealtimeOptions): RealtimeState {
  return { ...options, links: new Set(), sessions: new Map(), subscribers: new Map() }
}

function sendEncoded(state: RealtimeState, link: Link, payload: string | Uint8Array): void {
  if (link.closed || link.ws.readyState !== link.ws.OPEN) return
  link.ws.send(payload)
  link.lastSentAt = state.now()
  // A client that cannot keep up is dropped; it resumes and catches up from its channelSerial.
  if (link.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
    state.log({ event: 'hub.connection.slow', connectionId: link.session?.id })
    closeLink(state, link, true)
  }
}

/** Sends one frame on a socket, if there is one. */
export function send(state: RealtimeState, link: Link | undefined, frame: OutboundFrame): void {
  if (link) sendEncoded(state, link, encode(frame, link.format))
}

/** Sends one frame to many attachments, encoding it once per format and channel name. */
export function sendToAll(state: RealtimeState, recipients: Iterable<Attachment>, frameFor: (format: Format, channel: string) => OutboundFrame): void {
  const encoded = new Map<string, string | Uint8Array>()
  for (const { session, name } of recipients) {
    const link = session.link
    if (!link) continue
    const cacheKey = `${link.format}\n${name}`
    let payload = encoded.get(cacheKey)
    if (payload === undefined) {
      payload = encode(frameFor(link.format, name), link.format)
      encoded.set(cacheKey, payload)
    }
    sendEncoded(state, link, payload)
  }
}

/** Attachments reading `channel` with `mode`, less the publisher's when it connected with `echo=false`. */
export function* recipients(state: RealtimeState, channel: string, mode: number, publisher?: string): Generator<Attachment> {
  for (const attachment of state.subscribers.get(channel) ?? []) {
    if (!(attachment.modes & mode)) continue
    if (!attachment.session.echo && attachment.session.id === publisher) continue
    yield attachment
  }
}

/** Ends one attachment of a session (by the name it attached with). */
export function unsubscribe(state: RealtimeState, session: Session, name: string): void {
  const attachment = session.attachments.get(name)
  if (!attachment) return
  session.attachments.delete(name)
  const set = state.subscribers.get(attachment.base)
  set?.delete(attachment)
  if (set?.size === 0) state.subscribers.delete(attachment.base)
}

/** Detaches the socket from its connection state; the state stays for resume. */
export function unlink(state: RealtimeState, session: Session): void {
  for (const channel of [...session.attachments.keys()]) unsubscribe(state, session, channel)
  session.link = undefined
  session.disconnectedAt = state.now()
  session.presenceReleased = false
}

/** Closes a socket, cleanly or abruptly; its connection state stays for resume. */
export function closeLink(state: RealtimeState, link: Link, abrupt: boolean): void {
  if (link.closed) return
  link.closed = true
  state.links.delete(link)
  const session = link.session
  if (session?.link === link) unlink(state, session)
  if (abrupt) link.ws.terminate()
  else link.ws.close(1000)
}
