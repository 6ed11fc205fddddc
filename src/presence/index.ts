/**
 * Who is online: a user is online while at least one of their connections is present on their presence channel, the
 * policy's `presenceChannel` (the SMS inbox's `notifications:{userId}`; the browser client enters there when given
 * `presence: RealtimePresence`). Any id the caller contract accepts can be asked about, through its channel segment. Answered from Ably's REST presence, at most
 * `MAX_BATCH_CHANNELS` channels per request as Ably allows. Ably keeps a member that vanished without a clean close
 * for about 15 s before its LEAVE, so "online" lags an abrupt disconnect by that much.
 */
import { AblyRestError, MAX_BATCH_CHANNELS, type AblyRest, type RequestOptions } from '../ably-rest/index.ts'
import { channelSegment, isAcceptedId, MAX_ID_LENGTH } from '../channels/segment.ts'
import { AppError } from '../errors/index.ts'
import type { ChannelsPolicy } from '../policy/index.ts'
import { smsInboxChannels } from '../policy/sms-inbox.ts'

export interface PresenceOptions extends RequestOptions {
  /** The channel policy whose presence channel is asked (the SMS inbox's by default). */
  policy?: ChannelsPolicy
}

/** One user's presence: online, and through how many connections (browser tabs, devices). */
export interface UserPresence {
  userId: string
  online: boolean
  connections: number
}

/** Batches sent at once; the rest wait, so a long list never opens a burst of requests. */
const CONCURRENT_BATCHES = 4

/**
 * The presence of each user, in the order given (duplicates answered once each). An invalid id is the caller's
 * mistake (`invalid_request`, naming it); Ably failing or refusing is `ably_unavailable`.
 */
export async function presenceOf(
  ably: AblyRest,
  userIds: readonly string[],
  { policy = smsInboxChannels, ...options }: PresenceOptions = {},
): Promise<UserPresence[]> {
  if (policy.presenceKind === undefined)
    throw new AppError('not_found', {
      message: "This site's channel policy has no presence channel (a kind whose only segment is its owner, with browser presence).",
    })
  // Each user's presence channel, through its segment; an id the caller contract refuses, or one whose segment the
  // policy's presence channel cannot hold (an owner alphabet of its own), is the caller's mistake.
  const unique = [...new Set(userIds)]
  const channels = new Map(unique.map((userId) => [userId, isAcceptedId(userId) ? policy.presenceChannel(channelSegment(userId)) : undefined]))
  const invalid = unique.find((userId) => channels.get(userId) === undefined)
  if (invalid !== undefined)
    throw new AppError('invalid_request', {
      message: 'A user id is not valid.',
      details: { userId: String(invalid).slice(0, 80), valid: `1 to ${MAX_ID_LENGTH} characters, no control characters, not "*"` },
    })
  const channelOf = (userId: string) => channels.get(userId) as string
  const batches: string[][] = []
  for (let start = 0; start < unique.length; start += MAX_BATCH_CHANNELS) batches.push(unique.slice(start, start + MAX_BATCH_CHANNELS))

  const connections = new Map<string, number>()
  let next = 0
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++] ?? []
      for (const [userId, count] of await connectionsOf(ably, batch, channelOf, options)) connections.set(userId, count)
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENT_BATCHES, batches.length) }, worker))
  return userIds.map((userId) => {
    const count = connections.get(userId) ?? 0
    return { userId, online: count > 0, connections: count }
  })
}

/** Whether each user is online, by user id. */
export async function isOnline(ably: AblyRest, userIds: readonly string[], options: PresenceOptions = {}): Promise<Record<string, boolean>> {
  return Object.fromEntries((await presenceOf(ably, userIds, options)).map(({ userId, online }) => [userId, online]))
}

/** One batch request: each user's number of present connections, counting only members entered as that user. */
async function connectionsOf(
  ably: AblyRest,
  userIds: readonly string[],
  channelOf: (userId: string) => string,
  options: RequestOptions,
): Promise<Map<string, number>> {
  const byChannel = new Map(userIds.map((userId) => [channelOf(userId), userId]))
  const results = await ably.batchPresence([...byChannel.keys()], options).catch((error: unknown) => {
    throw unavailable(error)
  })
  const counts = new Map<string, number>()
  for (const result of results) {
    const userId = byChannel.get(result.channel)
    if (userId === undefined) continue
    if ('error' in result) throw unavailable(result.error)
    counts.set(userId, new Set(result.members.filter((member) => member.clientId === userId).map((member) => member.connectionId)).size)
  }
  return counts
}

function unavailable(error: unknown): AppError {
  const reason = error instanceof AblyRestError ? `ably ${error.statusCode}${error.ablyCode ? ` ${error.ablyCode}` : ''}` : 'ably request failed'
  return new AppError('ably_unavailable', { cause: error, reason, headers: { 'Retry-After': '5' } })
}
