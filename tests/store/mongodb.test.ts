/** The store contract against a real MongoDB, whenever MONGODB_URI is set (e.g. `docker run -p 27017:27017 mongo:7`). */
import { describe, it } from 'vitest'
import { createMongoStore, sharedMongoClient } from '../../src/store/mongodb.ts'
import { messageStoreContract } from './contract.ts'

const uri = process.env.MONGODB_URI

if (uri) {
  messageStoreContract('MongoDB', async () => {
    const dbName = `ably_gateway_test_${crypto.randomUUID().slice(0, 8)}`
    const store = createMongoStore({ uri, dbName, timeoutMs: 5000 })
    return {
      store,
      cleanup: async () => {
        await sharedMongoClient(uri).db(dbName).dropDatabase()
      },
    }
  })
} else {
  describe('message store contract: MongoDB', () => {
    it.skip('runs when MONGODB_URI is set, e.g. MONGODB_URI=mongodb://localhost:27017 npx vitest run tests/store', () => {})
  })
}
