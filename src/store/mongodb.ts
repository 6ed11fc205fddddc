/**
 * The MongoDB store, with the official driver. One client per URI is reused across invocations of a warm function,
 * with short timeouts and a small pool. Driver errors become `StoreUnavailableError` here and nowhere else.
 */
import {
  MongoBulkWriteError,
  MongoClient,
  MongoError,
  MongoServerError,
  type Collection as MongoCollection,
  type Document,
  type MongoClientOptions,
} from 'mongodb'
import { isPipeline, type Collection, type CollectionSpec, type Database, type Doc, type Filter, type Update } from './collection.ts'
import { StoreUnavailableError, type MessageStore } from './index.ts'
import { createMessageStore } from './messages.ts'

export interface MongoStoreOptions {
  uri: string
  dbName: string
  /** Server selection, connect and pool-wait timeout, in ms. */
  timeoutMs?: number
  maxPoolSize?: number
}

const DUPLICATE_KEY = 11000
const INDEX_OPTIONS_CONFLICT = 85
const clients = new Map<string, MongoClient>()

/** The client for `uri`, created once per process and reused: a warm function keeps its connections. */
export function sharedMongoClient(uri: string, { timeoutMs = 2000, maxPoolSize = 5 }: Omit<MongoStoreOptions, 'uri' | 'dbName'> = {}): MongoClient {
  let client = clients.get(uri)
  if (!client) {
    const options: MongoClientOptions = {
      appName: 'ably-netlify-integration',
      serverSelectionTimeoutMS: timeoutMs,
      connectTimeoutMS: timeoutMs,
      socketTimeoutMS: timeoutMs * 2,
      waitQueueTimeoutMS: timeoutMs,
      maxPoolSize,
      minPoolSize: 0,
      maxIdleTimeMS: 60_000,
      retryWrites: true,
      retryReads: true,
    }
    client = new MongoClient(uri, options)
    clients.set(uri, client)
  }
  return client
}

/**
 * Why the driver refuses `uri`, with its user and password masked, or undefined when it parses. Connects to
 * nothing: constructing a client only parses. Run while the configuration is checked, so a URI that starts
 * right but is malformed is named as a configuration problem, not thrown by the driver on first use.
 */
export function mongoUriProblem(uri: string): string | undefined {
  try {
    new MongoClient(uri)
    return undefined
  } catch (error) {
    let message = error instanceof Error ? error.message : String(error)
    for (const secret of credentialsOf(uri)) message = message.split(secret).join('***')
    return message.slice(0, 200)
  }
}

/** The user and password in a connection string, as written and decoded. */
function credentialsOf(uri: string): string[] {
  const userinfo = /^mongodb(?:\+srv)?:\/\/([^/?#]*)@/.exec(uri)?.[1]
  if (userinfo === undefined) return []
  const separator = userinfo.indexOf(':')
  const parts = separator === -1 ? [userinfo] : [userinfo.slice(0, separator), userinfo.slice(separator + 1)]
  const decoded = parts.map((part) => {
    try {
      return decodeURIComponent(part)
    } catch {
      return part
    }
  })
  // Longest first, so a password containing the user name is masked whole.
  return [...new Set([userinfo, ...parts, ...decoded])].filter((part) => part !== '').sort((a, b) => b.length - a.length)
}

/** A message store in MongoDB. The client connects on first use; `init()` creates the indexes. */
export function createMongoStore({ uri, dbName, ...clientOptions }: MongoStoreOptions): MessageStore {
  return createMessageStore(
    createMongoDatabase(sharedMongoClient(uri, clientOptions), dbName, () => {
      clients.delete(uri)
    }),
  )
}

/** The collection port over a MongoDB database. */
function createMongoDatabase(client: MongoClient, dbName: string, onClose: () => void = () => {}): Database {
  const db = client.db(dbName)
  return {
    collection: <T extends Doc>(spec: CollectionSpec): Collection<T> => mongoCollection<T>(db.collection<Document>(spec.name)),
    createIndexes: (spec) =>
      translated(async () => {
        const create = () =>
          db.collection(spec.name).createIndexes(
            spec.indexes.map(({ name, key, unique, expireAfterSeconds }) => ({
              name,
              key,
              ...(unique !== undefined && { unique }),
              ...(expireAfterSeconds !== undefined && { expireAfterSeconds }),
            })),
          )
        try {
          await create()
        } catch (error) {
          // A TTL index that exists with another expiry (the retention was changed): collMod sets the new one. A user
          // with only the readWrite role may not run collMod; it may drop the index, which is then created anew.
          if (!(error instanceof MongoServerError && error.code === INDEX_OPTIONS_CONFLICT)) throw error
          for (const { name, expireAfterSeconds } of spec.indexes) {
            if (expireAfterSeconds === undefined) continue
            try {
              await db.command({ collMod: spec.name, index: { name, expireAfterSeconds } })
            } catch (collModError) {
              if (!(collModError instanceof MongoServerError)) throw collModError
              await db.collection(spec.name).dropIndex(name)
            }
          }
          await create()
        }
      }),
    close: async () => {
      onClose()
      await client.close()
    },
  }
}

function mongoCollection<T extends Doc>(collection: MongoCollection<Document>): Collection<T> {
  // What the store put in is what comes back: the driver's `Document` is the store's own `T`.
  const typed = (doc: Document) => doc as T
  return {
    insertMany: (docs) =>
      translated(async () => {
        try {
          await collection.insertMany(
            docs.map((doc): Document => ({ ...doc })),
            { ordered: false },
          )
          return { duplicates: [] }
        } catch (error) {
          if (!(error instanceof MongoBulkWriteError)) throw error
          const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors]
          if (writeErrors.length === 0 || writeErrors.some((writeError) => writeError.code !== DUPLICATE_KEY)) throw error
          return { duplicates: writeErrors.map((writeError) => writeError.index) }
        }
      }),
    find: (filter, { sort, limit } = {}) =>
      translated(async () => {
        let cursor = collection.find(filter)
        if (sort) cursor = cursor.sort(sort)
        if (limit !== undefined) cursor = cursor.limit(limit)
        return (await cursor.toArray()).map(typed)
      }),
    findOneAndUpdate: (filter, update, { sort, upsert = false } = {}) =>
      translated(async () => {
        const change = isPipeline(update) ? [...update] : update
        const run = () => collection.findOneAndUpdate(filter, change, { returnDocument: 'after', upsert, ...(sort && { sort }) })
        try {
          const doc = await run()
          return doc ? typed(doc) : null
        } catch (error) {
          // Two concurrent upserts of one `_id`: one inserts, the other fails once and then matches.
          if (!(upsert && error instanceof MongoServerError && error.code === DUPLICATE_KEY)) throw error
          const doc = await run()
          return doc ? typed(doc) : null
        }
      }),
    updateMany: (filter: Filter, update: Update) => translated(async () => (await collection.updateMany(filter, update)).matchedCount),
    count: (filter: Filter) => translated(() => collection.countDocuments(filter)),
  }
}

async function translated<R>(operation: () => Promise<R>): Promise<R> {
  try {
    return await operation()
  } catch (error) {
    if (error instanceof MongoError) throw new StoreUnavailableError(`MongoDB: ${error.name}`, { cause: error })
    throw error
  }
}
