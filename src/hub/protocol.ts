/** Ably realtime protocol constants (protocol version 6): actions, flags and channel modes. */
import type { WireErrorInfo } from './errors.ts'

export const Action = {
  HEARTBEAT: 0,
  ACK: 1,
  NACK: 2,
  CONNECTED: 4,
  DISCONNECT: 5,
  DISCONNECTED: 6,
  CLOSE: 7,
  CLOSED: 8,
  ERROR: 9,
  ATTACH: 10,
  ATTACHED: 11,
  DETACH: 12,
  DETACHED: 13,
  PRESENCE: 14,
  MESSAGE: 15,
  SYNC: 16,
  AUTH: 17,
} as const

export const Flag = {
  HAS_PRESENCE: 1 << 0,
  HAS_BACKLOG: 1 << 1,
  RESUMED: 1 << 2,
} as const

export const Mode = {
  PRESENCE: 1 << 16,
  PUBLISH: 1 << 17,
  SUBSCRIBE: 1 << 18,
  PRESENCE_SUBSCRIBE: 1 << 19,
} as const

/** The modes the hub can grant; other requested modes (annotations, objects) are dropped. */
export const SUPPORTED_MODES = Mode.PRESENCE | Mode.PUBLISH | Mode.SUBSCRIBE | Mode.PRESENCE_SUBSCRIBE

/** Ably's default mode set when an ATTACH requests none (the four the hub supports). */
export const DEFAULT_MODES = Mode.PRESENCE | Mode.PUBLISH | Mode.SUBSCRIBE | Mode.PRESENCE_SUBSCRIBE

const MODE_NAMES: Record<string, number> = {
  presence: Mode.PRESENCE,
  publish: Mode.PUBLISH,
  subscribe: Mode.SUBSCRIBE,
  presence_subscribe: Mode.PRESENCE_SUBSCRIBE,
}

/** Parses the `modes` channel param (`"publish,subscribe"`) into mode bits; unknown names are ignored. */
export function modesFromParam(value: string): number {
  return value.split(',').reduce((bits, name) => bits | (MODE_NAMES[name.trim().toLowerCase()] ?? 0), 0)
}

/** Presence actions on the wire. */
export const PresenceAction = {
  ABSENT: 0,
  PRESENT: 1,
  ENTER: 2,
  LEAVE: 3,
  UPDATE: 4,
} as const

/** An outbound ProtocolMessage; absent fields are omitted when encoded. */
export interface OutboundFrame {
  action: number
  id?: string
  channel?: string
  channelSerial?: string
  connectionId?: string
  connectionKey?: string
  connectionDetails?: Record<string, unknown>
  msgSerial?: number
  count?: number
  flags?: number
  timestamp?: number
  error?: WireErrorInfo
  messages?: Record<string, unknown>[]
  presence?: Record<string, unknown>[]
  params?: Record<string, string>
  res?: { serials: (string | null)[] }[]
}
