/** The real Netlify edge entries, served on Deno with a `Netlify.env` shim, as Netlify's edge runtime loads them. */
import assert from 'node:assert/strict'
import type { StatsResponse } from '../../src/routes/stats.ts'
import { testEnv } from '../support/fixtures.ts'
import { assertAblyToken, assertSignedOut, assertSecurityHeaders, definedVars, tokenRequest, WRONG_JWT_SECRET } from '../support/runtime.ts'

type EdgeEntry = typeof import('../../netlify/edge-functions/ably-token.ts')

const SITE = 'https://site.example'

/** Loads an edge entry afresh (the query makes a new module instance) with `env` behind `Netlify.env`. */
async function loadEdgeEntry(name: 'ably-token' | 'ably-stats', env: Record<string, string | undefined>): Promise<EdgeEntry['default']> {
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
  const entry: EdgeEntry = await import(`../../netlify/edge-functions/${name}.ts?instance=${crypto.randomUUID()}`)
  return entry.default
}

/** A loopback port nothing listens on: Ably's REST API is unreachable there. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: '127.0.0.1', port: 0 })
  const { port } = listener.addr
  listener.close()
  return port
}

Deno.test('ably-token: a valid app JWT gets an Ably JWT signed with the Ably key', async () => {
  const handle = await loadEdgeEntry('ably-token', testEnv)
  const res = await handle(await tokenRequest(SITE))
  assertSecurityHeaders(res)
  await assertAblyToken(res)
})

Deno.test('ably-token: an app JWT signed with another secret gets the 403 signed_out', async () => {
  const handle = await loadEdgeEntry('ably-token', testEnv)
  const res = await handle(await tokenRequest(SITE, { secret: WRONG_JWT_SECRET }))
  assertSecurityHeaders(res)
  await assertSignedOut(res)
})

Deno.test('ably-stats: Ably unreachable on loopback → 503 unhealthy', async () => {
  const handle = await loadEdgeEntry('ably-stats', { ...testEnv, ABLY_REST_URL: `http://127.0.0.1:${closedPort()}` })
  const res = await handle(new Request(`${SITE}/api/ably/stats`))
  assert.equal(res.status, 503)
  assertSecurityHeaders(res)
  const body = (await res.json()) as StatsResponse
  assert.equal(body.status, 'unhealthy')
  assert.deepEqual({ status: body.checks.ablyTime.status, error: body.checks.ablyTime.error }, { status: 'failed', error: 'unreachable' })
})

for (const name of ['ably-token', 'ably-stats'] as const) {
  Deno.test(`${name}: a weak JWT_SECRET stops the function at load with the ConfigError`, async () => {
    await assert.rejects(loadEdgeEntry(name, { ...testEnv, JWT_SECRET: 'changeme' }), (error: Error) => {
      assert.equal(error.name, 'ConfigError')
      assert.match(error.message, /JWT_SECRET is too weak/)
      return true
    })
  })
}
