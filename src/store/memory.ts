/**
 * The embedded store for `npm start` and the tests: collections in memory, queried and updated by mingo, which
 * implements MongoDB's query and update language. Unique, TTL and equality indexes are emulated (the first field of
 * every index narrows what a query scans, so a history read looks at its channel's messages only). The messages it
 * holds are bounded: past the limits it removes settled (delivered or failed) messages early, oldest first, and never
 * a pending one. Nothing survives a restart.
 */
import { Aggregator, find, update } from 'mingo'
import { isPipeline, type Collection, type CollectionSpec, type Database, type Doc, type Filter, type Pipeline, type Sort, type Update } from './collection.ts'
import { StoreUnavailableError, type MessageStore } from './index.ts'
import { createMessageStore } from './messages.ts'

export interface MemoryStoreOptions {
  /** The clock TTL indexes expire documents by. */
  now?: () => number
  /** The most messages held (default 5,000). */
  maxMessages?: number
  /** The most message bytes held, as Ably counts them (name + data; default 16 MiB). */
  maxMessageBytes?: number
}

/** How long the emulated TTL monitor waits between passes (MongoDB's runs every 60 s). */
const EXPIRY_INTERVAL_MS = 1000

/** A message store held in memory. */
export function createMemoryStore(options: MemoryStoreOptions = {}): MessageStore {
  return createMessageStore(createMemoryDatabase(options))
}

/** What a collection may hold, and which documents may go early to make room. */
interface Capacity {
  docs: number
  bytes: number
  /** The numeric field that holds a document's size. */
  sizeField: string
  /** Documents whose field holds a date may be removed early, oldest first; the others never are. */
  evictBy: string
}

/** An in-memory database of mingo collections. */
function createMemoryDatabase({ now = Date.now, maxMessages = 5000, maxMessageBytes = 16 * 2 ** 20 }: MemoryStoreOptions = {}): Database {
  if (!Number.isInteger(maxMessages) || maxMessages < 1 || !Number.isInteger(maxMessageBytes) || maxMessageBytes < 1) {
    throw new TypeError(`createMemoryDatabase: maxMessages and maxMessageBytes must be positive integers, got ${maxMessages} and ${maxMessageBytes}`)
  }
  const capacities: Record<string, Capacity> = { messages: { docs: maxMessages, bytes: maxMessageBytes, sizeField: 'size', evictBy: 'settledAt' } }
  const collections = new Map<string, MemoryCollection>()
  const get = (spec: CollectionSpec) => {
    const collection = collections.get(spec.name) ?? new MemoryCollection(spec, now, capacities[spec.name])
    collections.set(spec.name, collection)
    return collection
  }
  return {
    // The memory collection stores any document; the caller's `T` describes what it puts in.
    collection: <T extends Doc>(spec: CollectionSpec) => get(spec) as unknown as Collection<T>,
    // Like MongoDB's createIndexes with collMod: the spec's indexes replace the emulated ones (a new TTL applies).
    createIndexes: async (spec) => get(spec).configure(spec),
    close: async () => collections.clear(),
  }
}

type Stored = Doc & Record<string, unknown>

/** Documents whose indexed field is not a string sit in this bucket, which every lookup includes. */
const OTHER = Symbol('other')

class MemoryCollection implements Collection<Stored> {
  private readonly docs = new Map<string, Stored>()
  /** Unique field → value → `_id`. */
  private unique = new Map<string, Map<unknown, string>>()
  /** Equality index: field → value → the `_id`s holding it. */
  private lookups = new Map<string, Map<string | typeof OTHER, Set<string>>>()
  private ttls: { field: string; afterMs: number }[] = []
  private lastExpiry = Number.NEGATIVE_INFINITY
  private bytes = 0

  constructor(
    spec: CollectionSpec,
    private readonly now: () => number,
    private readonly capacity: Capacity | undefined,
  ) {
    this.configure(spec)
  }

  configure(spec: CollectionSpec) {
    const uniqueFields = spec.indexes.filter((index) => index.unique).map((index) => Object.keys(index.key))
    if (uniqueFields.some((fields) => fields.length !== 1)) throw new TypeError(`${spec.name}: only single-field unique indexes are emulated`)
    this.unique = new Map(uniqueFields.map(([field]) => [field as string, new Map()]))
    const leading = spec.indexes.filter((index) => !index.unique).flatMap((index) => Object.keys(index.key).slice(0, 1))
    this.lookups = new Map(leading.filter((field) => !this.unique.has(field)).map((field) => [field, new Map()]))
    this.ttls = spec.indexes.flatMap((index) => {
      const [field] = Object.keys(index.key)
      return index.expireAfterSeconds === undefined || field === undefined ? [] : [{ field, afterMs: index.expireAfterSeconds * 1000 }]
    })
    this.lastExpiry = Number.NEGATIVE_INFINITY
    this.bytes = 0
    for (const doc of this.docs.values()) this.index(doc)
  }

  async insertMany(docs: readonly Stored[]) {
    this.expire()
    const duplicates: number[] = []
    const fresh = docs.flatMap((doc, index) => {
      if (this.docs.has(doc._id) || this.takenKey(doc) !== undefined) return (duplicates.push(index), [])
      return [doc]
    })
    this.makeRoom(fresh)
    for (const doc of fresh) this.put(structuredClone(doc))
    return { duplicates }
  }

  async find(filter: Filter, { sort, limit }: { sort?: Sort; limit?: number } = {}) {
    return this.select(filter, sort, limit).map((doc) => structuredClone(doc))
  }

  async findOneAndUpdate(filter: Filter, change: Update | Pipeline, { sort, upsert = false }: { sort?: Sort; upsert?: boolean } = {}) {
    const [match] = this.select(filter, sort, 1)
    if (match) {
      this.apply(match, isPipeline(change) ? change : withoutInsertOnly(change))
      return structuredClone(match)
    }
    if (!upsert) return null
    const created = this.upserted(filter, change)
    if (this.docs.has(created._id) || this.takenKey(created) !== undefined) throw new Error(`duplicate key on upsert into ${created._id}`)
    this.put(created)
    return structuredClone(created)
  }

  async updateMany(filter: Filter, change: Update) {
    const matches = this.select(filter)
    for (const doc of matches) this.apply(doc, withoutInsertOnly(change))
    return matches.length
  }

  async count(filter: Filter) {
    return this.select(filter).length
  }

  /** Matching documents, found by mingo; equality on `_id` or a unique field narrows the scan first. */
  private select(filter: Filter, sort?: Sort, limit?: number): Stored[] {
    this.expire()
    let cursor = find<Stored>(this.candidates(filter), filter)
    if (sort) cursor = cursor.sort(sort)
    if (limit !== undefined) cursor = cursor.limit(limit)
    return cursor.all()
  }

  /** The documents a query must look at: the smallest set an equality on `_id` or an indexed field allows. */
  private candidates(filter: Filter): Stored[] {
    // Each choice is sized first and only the smallest is listed.
    let best: { size: number; ids: () => Iterable<unknown> } | undefined
    const consider = (size: number, ids: () => Iterable<unknown>) => {
      if (size < (best?.size ?? Number.POSITIVE_INFINITY)) best = { size, ids }
    }
    for (const [field, index] of [['_id', undefined] as const, ...this.unique]) {
      const values = equalityValues(filter[field])
      if (values) consider(values.length, () => (index ? values.map((value) => index.get(value)) : values))
    }
    for (const [field, index] of this.lookups) {
      const values = equalityValues(filter[field])
      if (!values) continue
      const sets = [...new Set<string | typeof OTHER>([...values.filter((value): value is string => typeof value === 'string'), OTHER])].flatMap(
        (value) => index.get(value) ?? [],
      )
      consider(
        sets.reduce((sum, set) => sum + set.size, 0),
        () => sets.flatMap((set) => [...set]),
      )
    }
    if (best === undefined) return [...this.docs.values()]
    return [...new Set(best.ids())].flatMap((id) => (typeof id === 'string' && this.docs.has(id) ? [this.docs.get(id) as Stored] : []))
  }

  private apply(doc: Stored, change: Update | Pipeline) {
    this.unindex(doc)
    applyUpdate(doc, change)
    const clash = this.takenKey(doc)
    this.index(doc)
    if (clash !== undefined) throw new Error(`duplicate key ${clash} after update of ${doc._id}`)
  }

  /** Mongo's upsert: the filter's top-level equalities, then `$setOnInsert`, then the other operators. */
  private upserted(filter: Filter, change: Update | Pipeline): Stored {
    const seed: Record<string, unknown> = {}
    for (const [field, value] of Object.entries(filter)) {
      if (!field.startsWith('$') && !isOperatorObject(value)) seed[field] = structuredClone(value)
    }
    if (typeof seed._id !== 'string') throw new TypeError('upsert needs a string _id in the filter')
    const doc = { ...seed, ...(isPipeline(change) ? {} : structuredClone(change.$setOnInsert ?? {})) } as Stored
    applyUpdate(doc, isPipeline(change) ? change : withoutInsertOnly(change))
    return doc
  }

  private put(doc: Stored) {
    this.docs.set(doc._id, doc)
    this.index(doc)
  }

  private remove(doc: Stored) {
    this.unindex(doc)
    this.docs.delete(doc._id)
  }

  private index(doc: Stored) {
    for (const [field, index] of this.unique) if (doc[field] !== undefined) index.set(doc[field], doc._id)
    for (const [field, index] of this.lookups) {
      const value = lookupValue(doc[field])
      const ids = index.get(value) ?? new Set()
      index.set(value, ids)
      ids.add(doc._id)
    }
    this.bytes += this.sizeOf(doc)
  }

  private unindex(doc: Stored) {
    for (const [field, index] of this.unique) if (index.get(doc[field]) === doc._id) index.delete(doc[field])
    for (const [field, index] of this.lookups) {
      const value = lookupValue(doc[field])
      const ids = index.get(value)
      ids?.delete(doc._id)
      if (ids?.size === 0) index.delete(value)
    }
    this.bytes -= this.sizeOf(doc)
  }

  private sizeOf(doc: Stored): number {
    const size = this.capacity && doc[this.capacity.sizeField]
    return typeof size === 'number' ? size : 0
  }

  /**
   * Removes evictable documents, oldest first, until `incoming` fits in the capacity (and a tenth of it is free, so
   * the scan is not repeated on every insert); refuses the insert when what stays cannot go early.
   */
  private makeRoom(incoming: readonly Stored[]) {
    const capacity = this.capacity
    if (!capacity || incoming.length === 0) return
    const bytes = incoming.reduce((sum, doc) => sum + this.sizeOf(doc), 0)
    const fits = (docs: number, used: number) => this.docs.size + incoming.length <= docs && this.bytes + bytes <= used
    if (fits(capacity.docs, capacity.bytes)) return
    const evictable = [...this.docs.values()]
      .flatMap((doc) => {
        const at = doc[capacity.evictBy]
        return at instanceof Date ? [{ doc, at: at.getTime() }] : []
      })
      .sort((a, b) => a.at - b.at)
    for (const { doc } of evictable) {
      if (fits(Math.floor(capacity.docs * 0.9), Math.floor(capacity.bytes * 0.9))) break
      this.remove(doc)
    }
    if (!fits(capacity.docs, capacity.bytes)) {
      throw new StoreUnavailableError(
        `the embedded store is full: ${this.docs.size} messages (${this.bytes} bytes) not yet delivered; it holds at most ${capacity.docs} messages or ${capacity.bytes} bytes`,
      )
    }
  }

  private takenKey(doc: Stored): string | undefined {
    for (const [field, index] of this.unique) {
      const holder = index.get(doc[field])
      if (holder !== undefined && holder !== doc._id) return field
    }
    return undefined
  }

  /** The TTL monitor: documents whose TTL field holds a date that far in the past go; at most once a second. */
  private expire() {
    const at = this.now()
    if (this.ttls.length === 0 || at - this.lastExpiry < EXPIRY_INTERVAL_MS) return
    this.lastExpiry = at
    for (const doc of this.docs.values()) {
      if (this.ttls.some(({ field, afterMs }) => doc[field] instanceof Date && doc[field].getTime() <= at - afterMs)) this.remove(doc)
    }
  }
}

/** The equality-index bucket of a value: strings by value, anything else in one shared bucket. */
function lookupValue(value: unknown): string | typeof OTHER {
  return typeof value === 'string' ? value : OTHER
}

/** Applies an operator update, or a pipeline (run by mingo's aggregation), to `doc` in place. */
function applyUpdate(doc: Stored, change: Update | Pipeline) {
  if (!isPipeline(change)) return void update(doc, change)
  const [result] = new Aggregator([...change]).run([structuredClone(doc)])
  if (!result || result._id !== doc._id) throw new Error(`update pipeline must keep the document ${doc._id}`)
  for (const field of Object.keys(doc)) delete doc[field]
  Object.assign(doc, result)
}

function withoutInsertOnly({ $setOnInsert: _, ...change }: Update): Update {
  return change
}

function isOperatorObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !(value instanceof Date) && Object.keys(value).some((key) => key.startsWith('$'))
}

/** The values an equality or `$in` condition allows, or undefined when the condition is anything else. */
function equalityValues(condition: unknown): unknown[] | undefined {
  if (typeof condition === 'string') return [condition]
  if (typeof condition === 'object' && condition !== null && Object.keys(condition).length === 1 && '$in' in condition && Array.isArray(condition.$in)) {
    return condition.$in
  }
  return undefined
}
