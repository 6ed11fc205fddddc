/** The real Workers entry, bundled as Wrangler would and run in workerd through Miniflare. */
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundle } from '../../bench/bundle.ts'
import { testEnv } from '../support/fixtures.ts'
import { assertAblyToken, assertSignedOut, assertSecurityHeaders, definedVars, tokenRequest, WRONG_JWT_SECRET } from '../support/runtime.ts'

const ORIGIN = 'https://worker.example'

/** A workerd process running the bundled entry with `env` as its bindings; its stdout is kept in `logs`. */
async function startWorker(script: string, env: Record<string, string | undefined>) {
  const logs: string[] = []
  const mf = new Miniflare({
    modules: true,
    script,
    bindings: definedVars(env),
    compatibilityDate: '2025-11-01',
    handleRuntimeStdio: (stdout, stderr) => {
      for (const stream of [stdout, stderr]) stream.on('data', (chunk) => logs.push(String(chunk)))
    },
  })
  await mf.ready
  /** Sends `request` to the worker and hands back a web-standard Response. */
  const send = async (request: Request): Promise<Response> => {
    const res = await mf.dispatchFetch(request.url, { method: request.method, headers: [...request.headers] })
    return new Response(await res.text(), { status: res.status, headers: [...res.headers] })
  }
  return { mf, logs, send }
}

let script = ''
beforeAll(async () => {
  script = await bundle('hosts/cloudflare-worker.ts')
})

describe('cloudflare-worker on workerd', () => {
  let worker: Awaited<ReturnType<typeof startWorker>>
  beforeAll(async () => {
    worker = await startWorker(script, testEnv)
  })
  afterAll(() => worker.mf.dispose())

  it('issues an Ably JWT that verifies with the Ably key', async () => {
    const res = await worker.send(await tokenRequest(ORIGIN))
    assertSecurityHeaders(res)
    await assertAblyToken(res)
  })

  it('refuses an app JWT signed with another secret with the 403 signed_out', async () => {
    await assertSignedOut(await worker.send(await tokenRequest(ORIGIN, { secret: WRONG_JWT_SECRET })))
  })
})

describe('cloudflare-worker on workerd without JWT_SECRET', () => {
  let worker: Awaited<ReturnType<typeof startWorker>>
  beforeAll(async () => {
    worker = await startWorker(script, { ...testEnv, JWT_SECRET: undefined })
  })
  afterAll(() => worker.mf.dispose())

  it('answers a generic 500 and logs the ConfigError naming the variable', async () => {
    const res = await worker.send(await tokenRequest(ORIGIN))
    expect(res.status).toBe(500)
    assertSecurityHeaders(res)
    const body: unknown = await res.json()
    expect(body).toEqual({ error: 'Internal error.', code: 'internal_error', requestId: res.headers.get('x-request-id') })
    await expect.poll(() => worker.logs.join('')).toContain('"msg":"config_error"')
    expect(worker.logs.join('')).toContain('JWT_SECRET is not set')
    expect(JSON.stringify(body)).not.toContain('JWT_SECRET')
  })
})
