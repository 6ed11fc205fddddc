/** The real Deno entry: `Deno.serve` on an ephemeral loopback port, answering a real HTTP request. */
import { testEnv } from '../support/fixtures.ts'
import { assertAblyToken, assertSecurityHeaders, definedVars, tokenRequest } from '../support/runtime.ts'

for (const [name, value] of Object.entries(definedVars(testEnv))) Deno.env.set(name, value)
const { serve } = await import('../../hosts/deno-serve.ts')

Deno.test('deno-serve: a token request over HTTP on loopback gets a verifiable Ably JWT', async () => {
  const stop = new AbortController()
  const server = serve({ port: 0, signal: stop.signal, onListen: () => {} })
  try {
    const res = await fetch(await tokenRequest(`http://127.0.0.1:${server.addr.port}`))
    assertSecurityHeaders(res)
    await assertAblyToken(res)
  } finally {
    stop.abort()
    await server.finished
  }
})
