/** Issue 12 on Deno: the real Netlify edge token entry verifying provider tokens against a JWKS on loopback. */
import { PROVIDER_CASES, startProviderRuntime } from '../support/provider-runtime.ts'
import { definedVars } from '../support/runtime.ts'

type EdgeEntry = typeof import('../../netlify/edge-functions/ably-token.ts')

async function loadTokenEntry(env: Record<string, string | undefined>): Promise<EdgeEntry['default']> {
  const vars = new Map(Object.entries(definedVars(env)))
  globalThis.Netlify = {
    context: null,
    env: {
      get: (key) => vars.get(key),
      has: (key) => vars.has(key),
      set: (key, value) => void vars.set(key, value),
      delete: (key) => void vars.delete(key),
      toObject: () => Object.fromEntries(vars),
    },
  }
  const entry: EdgeEntry = await import(`../../netlify/edge-functions/ably-token.ts?instance=${crypto.randomUUID()}`)
  return entry.default
}

const runtime = await startProviderRuntime()
for (const [index, testCase] of PROVIDER_CASES.entries()) {
  Deno.test({
    name: `ably-token: ${testCase.name}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      try {
        const handle = await loadTokenEntry(testCase.env(runtime))
        await testCase.run(async (request) => await handle(request), runtime)
      } finally {
        if (index === PROVIDER_CASES.length - 1) await runtime.jwks.close()
      }
    },
  })
}
