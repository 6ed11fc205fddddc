/** Issue 12 on Deno: the real Netlify edge token entry verifying provider tokens against a JWKS on loopback. */
import { PROVIDER_CASES, startProviderRuntime } from '../support/provider-runtime.ts'
import { loadEdgeEntry } from './edge-entry.ts'

const runtime = await startProviderRuntime()
for (const [index, testCase] of PROVIDER_CASES.entries()) {
  Deno.test({
    name: `ably-token: ${testCase.name}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      try {
        const handle = await loadEdgeEntry('ably-token', testCase.env(runtime))
        await testCase.run(async (request) => await handle(request), runtime)
      } finally {
        if (index === PROVIDER_CASES.length - 1) await runtime.jwks.close()
      }
    },
  })
}
