/** The REST presence contract against real Ably, whenever ABLY_API_KEY is set (it costs a few dozen messages a run). */
import { describe, it } from 'vitest'
import { DEFAULT_ABLY_REST_URL } from '../../src/config/index.ts'
import { restPresenceContract } from './contract.ts'

const key = process.env.ABLY_API_KEY

if (key) {
  restPresenceContract('Ably', () => ({ key, restUrl: process.env.ABLY_REST_URL ?? DEFAULT_ABLY_REST_URL, clientOptions: {} }))
} else {
  describe('REST presence contract: Ably', () => {
    it.skip('runs when ABLY_API_KEY is set, e.g. ABLY_API_KEY=app.key:secret npx vitest run tests/presence/ably.test.ts', () => {})
  })
}
