/** Issue 12 in workerd: the bundled Workers entry verifying provider tokens against a JWKS on loopback (the same cases as on Deno). */
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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
    // The worker's own log, kept rather than printed: it is checked below.
    const logs: string[] = []
    const mf = new Miniflare({
      modules: true,
      script,
      bindings: definedVars(testCase.env(runtime)),
      compatibilityDate: '2025-11-01',
      handleRuntimeStdio: (stdout, stderr) => {
        for (const stream of [stdout, stderr]) stream.on('data', (chunk) => logs.push(String(chunk)))
      },
    })
    try {
      await testCase.run(async (request) => {
        const res = await mf.dispatchFetch(request.url, { method: request.method, headers: [...request.headers] })
        return new Response(await res.text(), { status: res.status, headers: [...res.headers] })
      }, runtime)
    } finally {
      await mf.dispose()
    }
    // Every request is logged; a refused token is the client's doing, so a warning: only a server-side fault (the
    // provider's keys out of reach) is an error line. No token is ever logged.
    const lines = logs
      .join('')
      .split('\n')
      .filter((line) => line.startsWith('{'))
    expect(lines.some((line) => line.includes('"msg":"request"'))).toBe(true)
    for (const line of lines.filter((line) => line.includes('"level":"error"'))) expect(line).toContain('auth_keys_unavailable')
    expect(logs.join('')).not.toMatch(/eyJ[A-Za-z0-9_-]{8,}\./)
  })
})
