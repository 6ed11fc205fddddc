/** Issue 12 in workerd: the bundled Workers entry verifying provider tokens against a JWKS on loopback (the same cases as on Deno). */
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { bundle } from '../../bench/bundle.ts'
import { PROVIDER_CASES, startProviderRuntime, type ProviderRuntime } from '../support/provider-runtime.ts'
import { definedVars } from '../support/runtime.ts'

let script = ''
let runtime: ProviderRuntime
beforeAll(async () => {
  ;[script, runtime] = await Promise.all([bundle('hosts/cloudflare-worker.ts'), startProviderRuntime()])
})
afterAll(() => runtime.jwks.close())

describe('cloudflare-worker on workerd with provider keys', () => {
  it.each(PROVIDER_CASES.map((testCase) => [testCase.name, testCase] as const))('%s', async (_name, testCase) => {
    const mf = new Miniflare({ modules: true, script, bindings: definedVars(testCase.env(runtime)), compatibilityDate: '2025-11-01' })
    try {
      await testCase.run(async (request) => {
        const res = await mf.dispatchFetch(request.url, { method: request.method, headers: [...request.headers] })
        return new Response(await res.text(), { status: res.status, headers: [...res.headers] })
      }, runtime)
    } finally {
      await mf.dispose()
    }
  })
})
