/**
 * Channel state: bounded message history with serials, idempotent-id dedupe, presence members and
 * presence history. In memory, bounded by a per-channel cap, a retention period and a channel cap; presence
 * history by its own cap and retention (see limits.ts).
 */
import { HubError } from './errors.ts'
import { DEFAULT_PRESENCE_HISTORY_LIMIT, DEFAULT_PRESENCE_RETENTION_MS } from './limits.ts'
import type { InboundMessage, PresenceEvent, StoredMessage } from './messages.ts'
import { PresenceAction } from './protocol.ts'

export interface HistoryQuery {
  limit: number
  direction: 'forwards' | 'backwards'
  start?: number
  end?: number
  /** Only items at or before this serial (`untilAttach`). */
  untilSerial?: string
  /** Continue after (forwards) or before (backwards) this serial. */
  cursor?: string
}

export interface HistoryPage<T> {
  items: T[]
  /** The cursor of the next page, when there is one. */
  next?: string
}

export interface PublishOutcome {
  /** One serial per message; a deduplicated message gets its original serial. */
  serials: string[]
  /** The messages stored by this publish (deduplicated ones excluded), to deliver. */
  stored: StoredMessage[]
}

export interface ChannelStore {
  publish(name: string, messages: readonly InboundMessage[], connectionId?: string): PublishOutcome
  history(name: string, query: HistoryQuery): HistoryPage<StoredMessage>
  message(name: string, serial: string): StoredMessage | undefined
  presenceHistory(name: string, query: HistoryQuery): HistoryPage<PresenceEvent>
  /** Messages after `serial`, and whether none after it has been evicted. */
  since(name: string, serial: string): { continuous: boolean; messages: StoredMessage[] }
  /** The newest `count` messages, or those newer than `sinceTimestamp`. */
  recent(name: string, rewind: { count?: number; sinceTimestamp?: number }): StoredMessage[]
  /** The channel's latest serial (a fresh one for a channel without messages). */
  currentSerial(name: string): string
  members(name: string): PresenceEvent[]
  /** Applies an enter, update or leave and returns the stored event. */
  applyPresence(name: string, event: Omit<PresenceEvent, 'serial'>): PresenceEvent
  /** Channels on which `connectionId` has presence members, with those members. */
  membersOf(connectionId: string): { channel: string; member: PresenceEvent }[]
  /** Drops expired history and idempotency entries and empty channels. */
  prune(): void
}

export interface ChannelStoreOptions {
  now: () => number
  historyLimit: number
  retentionMs: number
  /** Presence history has its own, shorter bounds (Ably keeps it 2 minutes). */
  presenceHistoryLimit?: number
  presenceRetentionMs?: number
  idempotencyWindowMs: number
  maxChannels: number
}

interface Channel {
  messages: StoredMessage[]
  presenceLog: PresenceEvent[]
  members: Map<string, PresenceEvent>
  lastSerial?: string
  /** The newest serial evicted from `messages`: resuming from an older serial has lost continuity. */
  evicted?: string
}

const MAX_IDEMPOTENCY_ENTRIES = 200_000

function page<T extends { serial: string; timestamp: number }>(items: readonly T[], query: HistoryQuery): HistoryPage<T> {
  const { limit, direction, start, end, untilSerial, cursor } = query
  const selected: T[] = []
  const consider = (item: T) => {
    if (cursor !== undefined && (direction === 'forwards' ? item.serial <= cursor : item.serial >= cursor)) return
    if (start !== undefined && item.timestamp < start) return
    if (end !== undefined && item.timestamp > end) return
    if (untilSerial !== undefined && item.serial > untilSerial) return
    selected.push(item)
  }
  for (const item of direction === 'forwards' ? items : items.toReversed()) {
    if (selected.length > limit) break
    consider(item)
  }
  if (selected.length <= limit) return { items: selected }
  selected.pop()
  return { items: selected, next: selected.at(-1)?.serial }
}

/** Drops the oldest items beyond `limit` and those older than `oldest`, in one splice; returns the newest dropped. */
function trim<T extends { serial: string; timestamp: number }>(items: T[], limit: number, oldest: number): T | undefined {
  let count = Math.max(0, items.length - limit)
  while ((items[count]?.timestamp ?? oldest) < oldest) count++
  if (count === 0) return undefined
  const evicted = items[count - 1]
  items.splice(0, count)
  return evicted
}

/** Creates the store. Serials are `<ms>-<seq>`, zero-padded, increasing across the whole hub. */
export function createChannelStore({
  now,
  historyLimit,
  retentionMs,
  presenceHistoryLimit = DEFAULT_PRESENCE_HISTORY_LIMIT,
  presenceRetentionMs = DEFAULT_PRESENCE_RETENTION_MS,
  idempotencyWindowMs,
  maxChannels,
}: ChannelStoreOptions): ChannelStore {
  const channels = new Map<string, Channel>()
  const idempotency = new Map<string, { serial: string; at: number }>()
  let serialTime = 0
  let serialSequence = 0
  // Continuity floor for channels that were dropped while empty and come back later.
  let droppedFloor: string | undefined

  const nextSerial = (): string => {
    const time = now()
    if (time > serialTime) {
      serialTime = time
      serialSequence = 0
    } else if (++serialSequence > 999_999) {
      serialTime += 1
      serialSequence = 0
    }
    return `${String(serialTime).padStart(15, '0')}-${String(serialSequence).padStart(6, '0')}`
  }

  const channelFor = (name: string): Channel => {
    let channel = channels.get(name)
    if (channel) return channel
    if (channels.size >= maxChannels) prune()
    if (channels.size >= maxChannels) throw new HubError(90010, 'Maximum number of channels exceeded', 400)
    channel = { messages: [], presenceLog: [], members: new Map(), evicted: droppedFloor }
    channels.set(name, channel)
    return channel
  }

  const pruneIdempotency = (time: number) => {
    for (const [id, entry] of idempotency) {
      if (time - entry.at <= idempotencyWindowMs && idempotency.size <= MAX_IDEMPOTENCY_ENTRIES) break
      idempotency.delete(id)
    }
  }

  const trimChannel = (channel: Channel, time: number) => {
    const evicted = trim(channel.messages, historyLimit, time - retentionMs)
    if (evicted) channel.evicted = evicted.serial
    trim(channel.presenceLog, presenceHistoryLimit, time - presenceRetentionMs)
  }

  const prune = () => {
    const time = now()
    pruneIdempotency(time)
    for (const [name, channel] of channels) {
      trimChannel(channel, time)
      if (channel.messages.length > 0 || channel.presenceLog.length > 0 || channel.members.size > 0) continue
      const floor = channel.lastSerial ?? channel.evicted
      if (floor !== undefined && (droppedFloor === undefined || floor > droppedFloor)) droppedFloor = floor
      channels.delete(name)
    }
  }

  const publish = (name: string, messages: readonly InboundMessage[], connectionId?: string): PublishOutcome => {
    const channel = channelFor(name)
    const timestamp = now()
    pruneIdempotency(timestamp)
    const serials: string[] = []
    const stored: StoredMessage[] = []
    for (const message of messages) {
      const key = message.id === undefined ? undefined : `${name}\n${message.id}`
      const seen = key === undefined ? undefined : idempotency.get(key)
      if (seen) {
        serials.push(seen.serial)
        continue
      }
      const serial = nextSerial()
      const id = message.id ?? serial
      stored.push({ ...message, id, serial, timestamp, connectionId })
      if (key !== undefined) idempotency.set(key, { serial, at: timestamp })
      serials.push(serial)
    }
    const last = stored.at(-1)
    if (last) {
      // Not push(...stored): spreading a large array overflows the call stack.
      for (const message of stored) channel.messages.push(message)
      channel.lastSerial = last.serial
      trimChannel(channel, timestamp)
    }
    return { serials, stored }
  }

  const since = (name: string, serial: string) => {
    const channel = channels.get(name)
    const floor = channel ? channel.evicted : droppedFloor
    return {
      continuous: floor === undefined || serial >= floor,
      messages: channel?.messages.filter((message) => message.serial > serial) ?? [],
    }
  }

  const recent = (name: string, { count, sinceTimestamp }: { count?: number; sinceTimestamp?: number }) => {
    const messages = channels.get(name)?.messages ?? []
    if (count !== undefined) return count > 0 ? messages.slice(-count) : []
    return messages.filter((message) => sinceTimestamp === undefined || message.timestamp >= sinceTimestamp)
  }

  const applyPresence = (name: string, event: Omit<PresenceEvent, 'serial'>): PresenceEvent => {
    const channel = channelFor(name)
    const stored = { ...event, serial: nextSerial() }
    const member = `${event.connectionId}\n${event.clientId}`
    if (event.action === PresenceAction.LEAVE) channel.members.delete(member)
    else channel.members.set(member, stored)
    channel.presenceLog.push(stored)
    trimChannel(channel, stored.timestamp)
    return stored
  }

  const membersOf = (connectionId: string) => {
    const found: { channel: string; member: PresenceEvent }[] = []
    for (const [channel, state] of channels) {
      for (const member of state.members.values()) {
        if (member.connectionId === connectionId) found.push({ channel, member })
      }
    }
    return found
  }

  return {
    publish,
    history: (name, query) => page(channels.get(name)?.messages ?? [], query),
    message: (name, serial) => channels.get(name)?.messages.find((message) => message.serial === serial),
    presenceHistory: (name, query) => page(channels.get(name)?.presenceLog ?? [], query),
    since,
    recent,
    currentSerial: (name) => channels.get(name)?.lastSerial ?? nextSerial(),
    members: (name) => [...(channels.get(name)?.members.values() ?? [])],
    applyPresence,
    membersOf,
    prune,
  }
}
