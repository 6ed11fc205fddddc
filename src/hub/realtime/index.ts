/**
 * The realtime side of the hub: one WebSocket per connection, Ably protocol 6 frames in JSON or
 * MessagePack, connection state kept for resume, channel attachments, fan-out, presence and token
 * renewal, each concern in its own module around one state object. The protocol is Ably's client library
 * specification: https://sdk.ably.com/builds/ably/specification/main/features/
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { ChannelMetrics } from 'ably'
import type { WebSocket } from 'ws'
import type { PublishOutcome } from '../channels.ts'
import type { InboundMessage } from '../messages.ts'
import { occupancy, publish } from './attachments.ts'
import { acceptSocket } from './dispatch.ts'
import { applyRevocations } from './revocation.ts'
import { sweepSessions } from './sessions.ts'
import { closeLink, createState, type RealtimeOptions } from './state.ts'

export type { LogLine, RealtimeOptions } from './state.ts'

export interface Realtime {
  /** Takes over an upgraded socket; the connection is authenticated over the protocol, never refused at upgrade. */
  accept(ws: WebSocket, url: URL, headers: IncomingHttpHeaders): void
  /** Stores messages and delivers them to attached subscribers. */
  publish(channel: string, messages: readonly InboundMessage[], connectionId?: string): PublishOutcome
  /** The connection holding a connection key (for REST publishes on its behalf), if any. */
  connection(key: string): { id: string; clientId?: string } | undefined
  /** Channel occupancy as Ably's channel status reports it. */
  occupancy(channel: string): ChannelMetrics
  /** Drops every socket abruptly; connection state stays for resume. */
  dropAll(): void
  /** Idle heartbeats, token renewal prompts and expiry, expiry of detached connection state. */
  sweep(): void
  /** Applies a revocation just recorded to live connections (see ./revocation.ts). */
  applyRevocations(): void
}

/** Creates the realtime endpoint over shared channel state. */
export function createRealtime(options: RealtimeOptions): Realtime {
  const state = createState(options)
  return {
    accept: (ws, url, headers) => acceptSocket(state, ws, url, headers),
    publish: (channel, messages, connectionId) => publish(state, channel, messages, connectionId),
    connection: (key) => {
      const session = state.sessions.get(key)
      return session && { id: session.id, clientId: session.identity.clientId }
    },
    occupancy: (channel) => occupancy(state, channel),
    dropAll: () => {
      for (const link of [...state.links]) closeLink(state, link, true)
    },
    sweep: () => sweepSessions(state),
    applyRevocations: () => applyRevocations(state),
  }
}
