/** `npm run test:package`: the consumer test alone (packs, installs and deploy-checks a scratch site; its own CI step). */
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['tests/package/consumer.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
})
