import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // The consumer test packs and installs the package: its own step (`npm run test:package`, vitest.package.config.ts).
    exclude: ['tests/deno/**', 'node_modules/**', 'tests/package/consumer.test.ts'],
    // Every answer of an app in the suite is checked against the OpenAPI document.
    setupFiles: ['tests/support/openapi-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
})
