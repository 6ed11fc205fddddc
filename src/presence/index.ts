/**
 * Who is online: a user is online while at least one of their connections is present on their `notifications:{userId}`
 * channel (the browser client enters there when given `presence: RealtimePresence`). Answered from Ably's REST presence, at most
 * `MAX_BATCH_CHANNELS` channels per request as Ably allows. Ably keeps a member that vanished without a clean close
 * for about 15 s before its LEAVE, so "online" lags an abrupt disconnect by that much.
 */
import { AblyRestError, MAX_BATCH_CHANNELS, type AblyRest, type RequestOptions } from '../ably-rest/index.ts'
import { isValidId, notificationsChannel } from '../channels/index.ts'
import { AppError } from '../errors/index.ts'

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
export async function presenceOf(ably: AblyRest, userIds: readonly string[], options: RequestOptions = {}): Promise<UserPresence[]> {
  const invalid = userIds.find((userId) => !isValidId(userId))
  if (invalid !== undefined)
    throw new AppError('invalid_request', {
      message: 'A user id is not valid.',
      details: { userId: String(invalid).slice(0, 80), pattern: '^[A-Za-z0-9_-]{1,64}$' },
    })
  const unique = [...new Set(userIds)]
  const batches: string[][] = []
  for (let start = 0; start < unique.length; start += MAX_BATCH_CHANNELS) batches.push(unique.slice(start, start + MAX_BATCH_CHANNELS))

  const connections = new Map<string, number>()
  let next = 0
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++] ?? []
      for (const [userId, count] of await connectionsOf(ably, batch, options)) connections.set(userId, count)
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENT_BATCHES, batches.length) }, worker))
  return userIds.map((userId) => {
    const count = connections.get(userId) ?? 0
    return { userId, online: count > 0, connections: count }
  })
}

/** Whether each user is online, by user id. */
export async function isOnline(ably: AblyRest, userIds: readonly string[], options: RequestOptions = {}): Promise<Record<string, boolean>> {
  return Object.fromEntries((await presenceOf(ably, userIds, options)).map(({ userId, online }) => [userId, online]))
}

/** One batch request: each user's number of present connections, counting only members entered as that user. */
async function connectionsOf(ably: AblyRest, userIds: readonly string[], options: RequestOptions): Promise<Map<string, number>> {
  const byChannel = new Map(userIds.map((userId) => [notificationsChannel(userId), userId]))
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
