/**
 * The heart of accepting messages: persist first (once per idempotency key), then deliver within the budget. A retry of a stored message publishes nothing new; a retry of one that
 * nobody is delivering any more takes it over and delivers it now.
 */
import { AppError } from '../errors/index.ts'
import { describeError, type Logger } from '../log/index.ts'
import { StoreUnavailableError, within, type MessageDoc, type MessageStore } from '../store/index.ts'
import type { Delivery, DeliveryOutcome } from './delivery.ts'
import type { PreparedMessage } from './prepare.ts'

/**
 * `published`: Ably has it. `queued`: stored, and a sweeper will deliver it. `failed`: Ably refused it for good.
 * `in_progress`: a repeat of a message another request or sweeper is delivering right now.
 */
export type AcceptedStatus = 'published' | 'queued' | 'failed' | 'in_progress'

export interface Accepted {
  messageId: string
  channelName: string
  eventName: string
  /** When the message was first accepted (ISO 8601). */
  timestamp: string
  status: AcceptedStatus
  /** True when the idempotency key was already known: nothing new was stored. */
  replayed: boolean
}

export interface StoreThenDeliverOptions {
  store: MessageStore
  delivery: Delivery
  now: () => number
  /** How long a request may spend delivering. */
  budgetMs: number
  /** How long a request holds the messages it stored or took over; past it a sweeper may claim them. */
  leaseMs: number
  /** How long one store call may take before it fails (the store timeout): time kept for it before the deadline. */
  storeCallMs?: number
  log?: Logger
  newId?: () => string
}

interface StoreThenDeliverContext {
  /** Lease holder for this call, unique per request. */
  owner: string
  /** Recorded as `publisherId`. */
  publisherId: string
  /** An outer deadline (the request's), in ms since the epoch. */
  deadlineAt?: number | undefined
  /**
   * Reserves room for the messages about to be stored (the caller's rate limit), after the key lookup so that only
   * new messages count; it throws to refuse. What is then not stored after all is given back with `release`.
   */
  reserve?: ((count: number) => Promise<{ release(count: number): Promise<void> }>) | undefined
}

/** Stores what is new, takes over what nobody delivers any more, delivers both, and reports each message. */
export type StoreThenDeliver = (messages: readonly PreparedMessage[], context: StoreThenDeliverContext) => Promise<Accepted[]>

/** Kept free before the deadline beyond a store call, for answering. */
const DEADLINE_MARGIN_MS = 100

export function createStoreThenDeliver({
  store,
  delivery,
  now,
  budgetMs,
  leaseMs,
  storeCallMs = 0,
  log = () => {},
  newId = () => `msg-${crypto.randomUUID()}`,
}: StoreThenDeliverOptions): StoreThenDeliver {
  return async function storeThenDeliver(messages, { owner, publisherId, deadlineAt = Number.POSITIVE_INFINITY, reserve }) {
    const start = now()
    const leaseUntil = new Date(start + leaseMs)
    const lookup = messages.filter((message) => !message.newKey).map((message) => message.idempotencyKey)
    const known = new Map((lookup.length === 0 ? [] : await store.findByKeys(lookup)).map((doc) => [doc.idempotencyKey, doc]))
    const reused = keyReuse(messages, known)
    if (reused) throw reused

    const fresh = messages.flatMap((message, index) =>
      known.has(message.idempotencyKey) ? [] : [newDoc(message, { id: newId(), index, publisherId, owner, at: start, leaseUntil })],
    )
    const untilDeadline = () => deadlineAt - now()
    // A replay reserves nothing, so it always gets its original answer.
    const reservation = fresh.length > 0 && reserve ? await reserve(fresh.length) : undefined
    const giveBack = async (count: number) => {
      if (!reservation || count <= 0) return
      try {
        await within(reservation.release(count), untilDeadline(), 'release before the deadline')
      } catch (error) {
        // Over-counted, never under-counted: the caller may be refused early in this window, and nothing is lost.
        log({ level: 'warn', msg: 'rate_limit_release_failed', owner, count, error: describeError(error) })
      }
    }
    // Store nothing that the answer might not wait for: once a message is stored, the request must be able to say so.
    if (fresh.length > 0 && untilDeadline() < storeCallMs + DEADLINE_MARGIN_MS) {
      await giveBack(fresh.length)
      throw new StoreUnavailableError(`too little time left to store ${fresh.length} messages before the deadline`)
    }
    const inserted = new Set<string>()
    // A failed insert keeps its reservation: the messages may have been stored all the same.
    for (const outcome of await store.insert(fresh)) {
      if (outcome.inserted) inserted.add(outcome.doc._id)
      else known.set(outcome.doc.idempotencyKey, outcome.doc)
    }
    // Another request stored the same key between our lookup and our insert. What this request inserted is
    // leased to it and pending: fail it before refusing, or a sweeper would publish what the caller was refused.
    const reusedLate = keyReuse(messages, known)
    if (reusedLate) {
      const at = new Date(now())
      const error = `refused with its request: ${reusedLate.reason ?? 'idempotency key reused with another body'}`
      await within(
        store.settle(
          [...inserted].map((id) => ({ id, attempts: 0, now: at, status: 'failed' as const, error })),
          owner,
        ),
        untilDeadline(),
        'settle before the deadline',
      )
      await giveBack(fresh.length)
      throw reusedLate
    }
    // Keys a concurrent request stored first are replays here: they count for that request, not this one.
    await giveBack(fresh.length - inserted.size)

    const orphans = [...known.values()].filter((doc) => doc.status === 'pending' && (doc.leaseUntil === null || doc.leaseUntil.getTime() <= start))
    let adopted: MessageDoc[] = []
    if (orphans.length > 0) {
      try {
        adopted = await within(
          store.claim({ owner, now: new Date(start), leaseUntil, limit: orphans.length, ids: orphans.map((doc) => doc._id) }),
          untilDeadline(),
          'claim before the deadline',
        )
      } catch (error) {
        // Not an error for the caller: what we inserted is still delivered below, and the orphans stay pending for
        // a sweeper (reported as in progress). A 503 here would invite a retry without the key, a second copy.
        log({ level: 'warn', msg: 'adopt_failed', owner, count: orphans.length, error: describeError(error) })
      }
    }
    const freshByKey = new Map(fresh.map((doc) => [doc.idempotencyKey, doc]))
    const docs = messages.map((message) => {
      const doc = known.get(message.idempotencyKey) ?? freshByKey.get(message.idempotencyKey)
      if (!doc) throw new Error(`no stored message for key ${message.idempotencyKey}`)
      return doc
    })
    const adoptedIds = new Set(adopted.map((doc) => doc._id))
    const mine = docs.filter((doc) => inserted.has(doc._id) || adoptedIds.has(doc._id))
    // Delivery stops a store call before the deadline, so recording its outcomes still fits before the answer.
    const outcomes = await delivery.deliver(mine, { owner, deadlineAt: Math.min(start + budgetMs, deadlineAt - storeCallMs), settleBy: deadlineAt })

    return docs.map((doc) => ({
      messageId: doc._id,
      channelName: doc.channelName,
      eventName: doc.eventName,
      timestamp: doc.createdAt.toISOString(),
      status: statusOf(doc, outcomes.get(doc._id)),
      replayed: !inserted.has(doc._id),
    }))
  }
}

/** The 422 for the first message whose key is stored with another body, if any. */
function keyReuse(messages: readonly PreparedMessage[], known: ReadonlyMap<string, MessageDoc>): AppError | undefined {
  for (const [index, message] of messages.entries()) {
    const stored = known.get(message.idempotencyKey)
    if (stored && stored.fingerprint !== message.fingerprint) {
      return new AppError('idempotency_mismatch', {
        details: messages.length > 1 ? { index } : undefined,
        reason: `key reused with another body for ${stored._id}`,
      })
    }
  }
  return undefined
}

function statusOf(doc: MessageDoc, outcome: DeliveryOutcome | undefined): AcceptedStatus {
  if (outcome !== undefined) return outcome === 'pending' ? 'queued' : outcome
  return doc.status === 'pending' ? 'in_progress' : doc.status
}

function newDoc(
  message: PreparedMessage,
  { id, index, publisherId, owner, at, leaseUntil }: { id: string; index: number; publisherId: string; owner: string; at: number; leaseUntil: Date },
): MessageDoc {
  const createdAt = new Date(at)
  return {
    _id: id,
    idempotencyKey: message.idempotencyKey,
    fingerprint: message.fingerprint,
    channelName: message.channelName,
    ownerId: message.ownerId,
    publisherId,
    eventName: message.eventName,
    data: message.data,
    size: message.size,
    status: 'pending',
    attempts: 0,
    seq: seqOf(at, index, id),
    createdAt,
    updatedAt: createdAt,
    nextAttemptAt: createdAt,
    publishedAt: null,
    settledAt: null,
    // Held by this request while it delivers; a sweeper takes over only once the lease has run out.
    leaseOwner: owner,
    leaseUntil,
    lastError: null,
  }
}

/**
 * The history sort key: acceptance time (ms, zero-padded to 15 digits), the message's place in its request
 * (zero-padded to 4), then the id. A batch shares one time; its index keeps it in order instead of the random id.
 */
export function seqOf(atMs: number, index: number, id: string): string {
  return `${String(atMs).padStart(15, '0')}:${String(index).padStart(4, '0')}:${id}`
}
