/**
 * The embedded store for `npm start` and the tests: collections in memory, queried and updated by mingo, which
 * implements MongoDB's query and update language. Unique and TTL indexes are emulated. Nothing survives a restart.
 */
import { find, update } from 'mingo'
import type { Collection, CollectionSpec, Database, Doc, Filter, Sort, Update } from './collection.ts'
import type { MessageStore } from './index.ts'
import { createMessageStore } from './messages.ts'

export interface MemoryStoreOptions {
  /** The clock TTL indexes expire documents by. */
  now?: () => number
}

/** A message store held in memory. */
export function createMemoryStore(options: MemoryStoreOptions = {}): MessageStore {
  return createMessageStore(createMemoryDatabase(options))
}

/** An in-memory database of mingo collections. */
export function createMemoryDatabase({ now = Date.now }: MemoryStoreOptions = {}): Database {
  const collections = new Map<string, MemoryCollection>()
  const get = (spec: CollectionSpec) => {
    let collection = collections.get(spec.name)
    if (!collection) collections.set(spec.name, (collection = new MemoryCollection(spec, now)))
    return collection
  }
  return {
    // The memory collection stores any document; the caller's `T` describes what it puts in.
    collection: <T extends Doc>(spec: CollectionSpec) => get(spec) as unknown as Collection<T>,
    createIndexes: async (spec) => void get(spec),
    close: async () => collections.clear(),
  }
}

type Stored = Doc & Record<string, unknown>

class MemoryCollection implements Collection<Stored> {
  private readonly docs = new Map<string, Stored>()
  /** Unique field → value → `_id`. */
  private readonly unique: Map<string, Map<unknown, string>>
  private readonly ttl: { field: string; afterMs: number } | undefined

  constructor(spec: CollectionSpec, private readonly now: () => number) {
    const uniqueFields = spec.indexes.filter((index) => index.unique).map((index) => Object.keys(index.key))
    if (uniqueFields.some((fields) => fields.length !== 1)) throw new TypeError(`${spec.name}: only single-field unique indexes are emulated`)
    this.unique = new Map(uniqueFields.map(([field]) => [field as string, new Map()]))
    const ttl = spec.indexes.find((index) => index.expireAfterSeconds !== undefined)
    const ttlField = ttl && Object.keys(ttl.key)[0]
    this.ttl = ttlField === undefined ? undefined : { field: ttlField, afterMs: (ttl?.expireAfterSeconds ?? 0) * 1000 }
  }

  async insertMany(docs: readonly Stored[]) {
    this.expire()
    const duplicates: number[] = []
    docs.forEach((doc, index) => {
      if (this.docs.has(doc._id) || this.takenKey(doc) !== undefined) duplicates.push(index)
      else this.put(structuredClone(doc))
    })
    return { duplicates }
  }

  async find(filter: Filter, { sort, limit }: { sort?: Sort; limit?: number } = {}) {
    return this.select(filter, sort, limit).map((doc) => structuredClone(doc))
  }

  async findOneAndUpdate(filter: Filter, change: Update, { sort, upsert = false }: { sort?: Sort; upsert?: boolean } = {}) {
    const [match] = this.select(filter, sort, 1)
    if (match) {
      this.apply(match, withoutInsertOnly(change))
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

  private candidates(filter: Filter): Stored[] {
    for (const [field, index] of [['_id', undefined] as const, ...this.unique]) {
      const values = equalityValues(filter[field])
      if (!values) continue
      const ids = index ? values.map((value) => index.get(value)) : values
      return ids.flatMap((id) => (typeof id === 'string' && this.docs.has(id) ? [this.docs.get(id) as Stored] : []))
    }
    return [...this.docs.values()]
  }

  private apply(doc: Stored, change: Update) {
    this.unindex(doc)
    update(doc, change)
    const clash = this.takenKey(doc)
    this.index(doc)
    if (clash !== undefined) throw new Error(`duplicate key ${clash} after update of ${doc._id}`)
  }

  /** Mongo's upsert: the filter's top-level equalities, then `$setOnInsert`, then the other operators. */
  private upserted(filter: Filter, change: Update): Stored {
    const seed: Record<string, unknown> = {}
    for (const [field, value] of Object.entries(filter)) {
      if (!field.startsWith('$') && !isOperatorObject(value)) seed[field] = structuredClone(value)
    }
    if (typeof seed._id !== 'string') throw new TypeError('upsert needs a string _id in the filter')
    const doc = { ...seed, ...structuredClone(change.$setOnInsert ?? {}) } as Stored
    update(doc, withoutInsertOnly(change))
    return doc
  }

  private put(doc: Stored) {
    this.docs.set(doc._id, doc)
    this.index(doc)
  }

  private index(doc: Stored) {
    for (const [field, index] of this.unique) if (doc[field] !== undefined) index.set(doc[field], doc._id)
  }

  private unindex(doc: Stored) {
    for (const [field, index] of this.unique) if (index.get(doc[field]) === doc._id) index.delete(doc[field])
  }

  private takenKey(doc: Stored): string | undefined {
    for (const [field, index] of this.unique) {
      const holder = index.get(doc[field])
      if (holder !== undefined && holder !== doc._id) return field
    }
    return undefined
  }

  private expire() {
    if (!this.ttl) return
    const { field, afterMs } = this.ttl
    const cutoff = this.now() - afterMs
    for (const doc of this.docs.values()) {
      const value = doc[field]
      if (value instanceof Date && value.getTime() <= cutoff) {
        this.unindex(doc)
        this.docs.delete(doc._id)
      }
    }
  }
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
