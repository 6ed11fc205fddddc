/** The real Netlify edge entries on Deno with a `Netlify.env` shim: importing needs no variable; the env is read on the first request. */
import assert from 'node:assert/strict'
import type { StatsResponse } from '../../src/contract/index.ts'
import { testEnv } from '../support/fixtures.ts'
import { assertAblyToken, assertConfigErrorResponse, assertSecurityHeaders, assertSignedOut, tokenRequest, WRONG_JWT_SECRET } from '../support/runtime.ts'
import { loadEdgeEntry } from './edge-entry.ts'

const SITE = 'https://site.example'

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

Deno.test('ably-token with ABLY_REVOCABLE_TOKENS=true loads the Blobs client on demand, and without a Blobs context signs nothing (503)', async () => {
  const handle = await loadEdgeEntry('ably-token', { ...testEnv, ABLY_REVOCABLE_TOKENS: 'true' })
  const res = await handle(await tokenRequest(SITE))
  assert.equal(res.status, 503)
  assertSecurityHeaders(res)
  assert.equal(((await res.json()) as { code: string }).code, 'revocation_unavailable')
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

Deno.test('every entry imports with no variable at all, and declares its row of the route table', async () => {
  const { NETLIFY_FUNCTIONS } = await import('../../src/deploy/functions.ts')
  for (const name of ['ably-token', 'ably-stats', 'ably-presence'] as const) {
    globalThis.Netlify = { context: null, env: { get: () => undefined, has: () => false, set: () => {}, delete: () => {}, toObject: () => ({}) } }
    const entry = await import(`../../netlify/edge-functions/${name}.ts?instance=${crypto.randomUUID()}`)
    const { path, rateLimit, cache } = NETLIFY_FUNCTIONS[name] as { path: string; rateLimit: object; cache?: string }
    assert.deepEqual(entry.config, { path, rateLimit, ...(cache && { cache }) })
  }
})

/** Runs `fn` with console.log captured as parsed JSON lines. */
async function captureLogs(fn: () => Promise<void>): Promise<Record<string, unknown>[]> {
  const lines: Record<string, unknown>[] = []
  const original = console.log
  console.log = (line: unknown) => void lines.push(JSON.parse(String(line)))
  try {
    await fn()
  } finally {
    console.log = original
  }
  return lines
}

for (const name of ['ably-token', 'ably-stats', 'ably-presence'] as const) {
  Deno.test(`${name}: a weak JWT_SECRET answers the generic JSON 500 and logs one config_error naming it`, async () => {
    const handle = await loadEdgeEntry(name, { ...testEnv, JWT_SECRET: 'changeme' })
    const logs = await captureLogs(async () => {
      await assertConfigErrorResponse(await handle(new Request(`${SITE}/api/ably/${name.slice(5)}`)))
    })
    assert.deepEqual(
      logs.map((line) => [line.msg, line.variables]),
      [['config_error', ['JWT_SECRET']]],
    )
    assert.doesNotMatch(JSON.stringify(logs), /changeme/)
  })
}

Deno.test('a bad setting only the token function reads breaks only the token function', async () => {
  const env = { ...testEnv, ABLY_TOKEN_TTL: '1h', ABLY_REST_URL: `http://127.0.0.1:${closedPort()}` }
  const token = await loadEdgeEntry('ably-token', env)
  const stats = await loadEdgeEntry('ably-stats', env)
  await captureLogs(async () => {
    await assertConfigErrorResponse(await token(await tokenRequest(SITE)))
    const res = await stats(new Request(`${SITE}/api/ably/stats`))
    assert.equal(res.status, 503)
    assert.equal(((await res.json()) as StatsResponse).status, 'unhealthy')
  })
})

Deno.test('ably-token answers every method it does not serve with our JSON 405 and Allow', async () => {
  const handle = await loadEdgeEntry('ably-token', testEnv)
  for (const method of ['PUT', 'PATCH', 'DELETE']) {
    const res = await handle(new Request(`${SITE}/api/ably/token`, { method }))
    assert.deepEqual([res.status, res.headers.get('allow'), ((await res.json()) as { code: string }).code], [405, 'GET, POST, OPTIONS', 'method_not_allowed'])
  }
})
