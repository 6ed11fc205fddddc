/** Opens the store a checked config names (Node only: it loads the MongoDB driver). */
import type { MessageStore } from './index.ts'
import { createMemoryStore } from './memory.ts'
import { createMongoStore, type MongoStoreOptions } from './mongodb.ts'

/** Which store to open: the embedded one, or MongoDB (the gateway's `StoreConfig` is one). */
export type StoreChoice = { readonly kind: 'memory' } | ({ readonly kind: 'mongodb' } & Readonly<MongoStoreOptions>)

/** The store the config names: MongoDB, or the embedded one. */
export function openStore(config: StoreChoice): MessageStore {
  return config.kind === 'mongodb'
    ? createMongoStore({ uri: config.uri, dbName: config.dbName, timeoutMs: config.timeoutMs, maxPoolSize: config.maxPoolSize })
    : createMemoryStore()
}
