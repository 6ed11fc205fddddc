/**
 * One channel as the service's subscribers see it: each message once (by id, over a bounded window), and after a
 * loss of continuity the missed ones from the gateway's history, oldest first.
 */
import type { ChannelStateChange, InboundMessage, RealtimeChannel, RealtimeClient } from 'ably'
import { HistoryError, type HistoryItem } from './history.ts'
import { createRecentIds } from './recent-ids.ts'

/** A message as subscribers get it, live from Ably or backfilled from the gateway; the same `id` either way. */
export interface ChannelMessage<Name extends string = string, Data = unknown> {
  id: string
  name: Name
  data: Data
  /** Ms since the epoch: Ably's timestamp when live, the gateway's acceptance time when backfilled. */
  timestamp: number
  channelName: string
  source: 'live' | 'history'
}

export type ClientLogEvent =
  | { event: 'backfill'; channelName: string; delivered: number }
  | { event: 'backfill_failed'; channelName: string; status: number; retryInMs?: number }
  | { event: 'attach_failed'; channelName: string; code: number | undefined }
  | { event: 'presence_failed'; channelName: string; action: 'enter' | 'leave'; code: number | undefined }

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export interface FeedOptions {
  channelName: string
  /** The events to subscribe to: the channel kind's row of the event table. */
  eventNames: readonly string[]
  /** How many recent ids are remembered for deduplication. */
  recentIds: number
  /** Messages accepted since `since` (server ms), oldest first. */
  loadSince(channelName: string, since: number): Promise<HistoryItem[]>
  /** Server time minus local time, as last measured. */
  serverOffset(): number
  /** How far before the loss of continuity the backfill reaches, for clock error and messages in flight. */
  overlapMs: number
  now: () => number
  timers: Timers
  log: (event: ClientLogEvent) => void
}

export interface Feed {
  readonly channelName: string
  readonly listenerCount: number
  /** Adds a listener; the function returned removes it. */
  listen(listener: (message: ChannelMessage) => void): () => void
  /** Subscribes on a client's channel; from the second client on, its first attach counts as a loss of continuity. */
  bind(realtime: Pick<RealtimeClient, 'channels'>): void
  /** Stops listening to the bound channel, detaching it when `detach` is set; a backfill still loading is dropped. */
  unbind(detach: boolean): void
  /** Unbinds and drops every listener: nothing is delivered after. */
  close(): void
  /** The connection was lost: what arrives later may not be continuous with what came before. */
  markLost(): void
  /** The connection came back after a loss: backfill once the channel is attached. */
  requireBackfill(): void
}

const BACKFILL_RETRIES = 3
const BACKFILL_RETRY_BASE_MS = 1000

export function createFeed({ channelName, eventNames, recentIds: limit, loadSince, serverOffset, overlapMs, now, timers, log }: FeedOptions): Feed {
  const listeners = new Set<(message: ChannelMessage) => void>()
  const seen = createRecentIds(limit)
  const names = [...eventNames]
  let channel: RealtimeChannel | undefined
  /** Whether the channel has been attached once: only later attaches can break continuity. */
  let established = false
  /** When continuity was first in doubt (local ms), until a backfill covers it. */
  let lostAt: number | undefined
  let losses = 0
  let wanted = false
  let running = false
  let again = false
  let retry: unknown
  /** Bumped by `unbind`: a backfill started before settles without effect. */
  let epoch = 0

  function deliver(message: ChannelMessage): boolean {
    if (message.id && !seen.add(message.id)) return false
    for (const listener of [...listeners]) {
      try {
        listener(message)
      } catch (error) {
        // One failing subscriber must not starve the others; the error still surfaces as an uncaught one.
        queueMicrotask(() => {
          throw error
        })
      }
    }
    return true
  }

  const onMessage = (message: InboundMessage) => {
    deliver({ id: message.id, name: message.name ?? '', data: message.data, timestamp: message.timestamp, channelName, source: 'live' })
  }

  const markLost = () => {
    lostAt ??= now()
    losses += 1
  }

  const onAttached = (change: ChannelStateChange) => {
    if (!established) {
      established = true
      lostAt = undefined
      wanted = false
    } else if (!change.resumed || wanted) {
      backfill(0)
    } else {
      lostAt = undefined
    }
  }
  // An UPDATE without `resumed` while attached: the server says messages may have been lost.
  const onUpdate = (change: ChannelStateChange) => {
    if (change.resumed) return
    markLost()
    backfill(0)
  }
  const onLeft = (change: ChannelStateChange) => {
    if (change.current !== 'attached' && change.previous === 'attached') markLost()
  }

  function backfill(attempt: number) {
    wanted = false
    if (running) {
      again = true
      return
    }
    running = true
    timers.clearTimeout(retry)
    const from = lostAt ?? now()
    const lossesAtStart = losses
    const started = epoch
    loadSince(channelName, from + serverOffset() - overlapMs)
      .then((items) => {
        if (started !== epoch) return
        let delivered = 0
        for (const { id, name, data, timestamp } of items) {
          if (names.includes(name) && deliver({ id, name, data, timestamp, channelName, source: 'history' })) delivered += 1
        }
        if (losses === lossesAtStart) lostAt = undefined
        log({ event: 'backfill', channelName, delivered })
      })
      .catch((error: unknown) => {
        if (started !== epoch) return
        const status = error instanceof HistoryError ? error.status : 0
        // Without a session the history cannot be read; the connection reports that on its own.
        const retryable = status !== 401 && status !== 403 && attempt < BACKFILL_RETRIES
        const retryInMs = BACKFILL_RETRY_BASE_MS * 2 ** attempt
        log({ event: 'backfill_failed', channelName, status, ...(retryable && { retryInMs }) })
        if (retryable && channel) retry = timers.setTimeout(() => backfill(attempt + 1), retryInMs)
      })
      .finally(() => {
        if (started !== epoch) return
        running = false
        if (again) {
          again = false
          backfill(0)
        }
      })
  }

  function unbind(detach: boolean) {
    epoch += 1
    running = false
    again = false
    timers.clearTimeout(retry)
    if (!channel) return
    channel.off('attached', onAttached)
    channel.off('update', onUpdate)
    channel.off(onLeft)
    channel.unsubscribe(names, onMessage)
    if (detach) channel.detach().catch(() => {})
    channel = undefined
  }

  return {
    channelName,
    get listenerCount() {
      return listeners.size
    },
    listen(listener) {
      listeners.add(listener)
      return () => void listeners.delete(listener)
    },
    bind(realtime) {
      channel = realtime.channels.get(channelName)
      channel.on('attached', onAttached)
      channel.on('update', onUpdate)
      channel.on(onLeft)
      if (established) markLost()
      channel.subscribe(names, onMessage).catch((error: { code?: number }) => log({ event: 'attach_failed', channelName, code: error.code }))
    },
    unbind,
    close() {
      unbind(false)
      listeners.clear()
    },
    markLost,
    requireBackfill() {
      wanted = true
      if (channel?.state === 'attached') backfill(0)
    },
  }
}
