/**
 * The offline deploy check: `npm run check:deploy [-- <site dir>]` (the site defaults to this repository).
 *
 * 1. Bundles the site as Netlify's build does, with Netlify's own tools at pinned versions: the Node functions with
 *    @netlify/zip-it-and-ship-it, the edge functions with @netlify/edge-bundler (its config extractor imports every
 *    edge function). No app variable is in the build environment: they are removed before anything runs.
 * 2. Checks both manifests against the route table (`NETLIFY_FUNCTIONS`): routes, methods, rate limits, schedule.
 * 3. Runs what was built against a local hub: every Node zip through its Lambda entry (`___netlify-entry-point.mjs`)
 *    with an `awslambda` stand-in, and the ESZIP under Deno with a stand-in `Netlify` global and per-request context
 *    (`scripts/deploy-check/deno/serve-edge.ts`), and checks real answers.
 * 4. Serves the edge bundle with a bad JWT_SECRET beside a site function of the user's own, and shows that ours
 *    answer the JSON 500 and log `config_error` while the site's function still serves.
 *
 * Artefacts and `report.json` go to `<site>/.netlify/deploy-check/`. Exits 1 when any check fails.
 *
 * A site with a channel policy of its own passes `--sample <file.json>`: what user `alice` publishes and reads back
 * under that policy, and what her app JWT and the functions need for it, e.g.
 * `{ "env": { "JWT_MEMBERSHIP_CLAIM": "/teams" }, "claims": { "teams": ["t1"] },
 *    "publish": { "channelName": "board:t1", "eventName": "card", "data": { "teamId": "t1", "title": "Hi" } } }`.
 * Without it, the SMS inbox's `contacts:alice` refresh.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { dirname, join, relative, resolve } from 'node:path'
import { PassThrough, type Writable } from 'node:stream'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { BlobsServer } from '@netlify/blobs/server'
import { bundle } from '@netlify/edge-bundler'
import { zipFunctions } from '@netlify/zip-it-and-ship-it'
import { decodeProtectedHeader, jwtVerify } from 'jose'
import StreamZip from 'node-stream-zip'
import { NETLIFY_FUNCTIONS, type NetlifyFunction } from '../src/deploy/functions.ts'
import { createHub } from '../src/hub/index.ts'
import { mintAppToken } from '../src/local/mint-app-token.ts'
import { checkManifests, type EdgeManifest, type Finding, type FunctionsManifest } from './deploy-check/manifests.ts'

const { positionals, values } = parseArgs({ allowPositionals: true, options: { out: { type: 'string' }, sample: { type: 'string' } } })
const site = resolve(positionals[0] ?? '.')
const out = resolve(values.out ?? join(site, '.netlify/deploy-check'))
const tools = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const expected: readonly NetlifyFunction[] = Object.values(NETLIFY_FUNCTIONS)

/** What user `alice` publishes and reads back (see `--sample` above). */
interface Sample {
  env?: Record<string, string>
  claims?: Record<string, unknown>
  publish: { channelName: string; eventName: string; data: unknown }
}
const sample: Sample = values.sample
  ? (JSON.parse(await readFile(resolve(values.sample), 'utf8')) as Sample)
  : { publish: { channelName: 'contacts:alice', eventName: 'update', data: { action: 'refresh' } } }
const started = performance.now()
const findings: Finding[] = []
const timings: Record<string, number> = {}

/** The variables the app reads; none may be in the build environment. */
const APP_VARIABLE = /^(ABLY_|JWT_|MONGODB_|MESSAGE_STORE$|PUBLISH_|OUTBOX_|CORS_ORIGIN$)/

function record(check: string, ok: boolean, detail?: unknown) {
  findings.push({ check, ok, ...(!ok && detail !== undefined && { detail: typeof detail === 'string' ? detail : JSON.stringify(detail) }) })
  console.log(`${ok ? '  ok  ' : '  FAIL'} ${check}${ok || detail === undefined ? '' : `\n         got: ${String(findings.at(-1)?.detail).slice(0, 600)}`}`)
}

async function timed<T>(name: string, run: () => Promise<T>): Promise<T> {
  const at = performance.now()
  try {
    return await run()
  } finally {
    timings[name] = Math.round(performance.now() - at)
  }
}

const cacheDirectory = join(out, 'cache')
const children: ChildProcess[] = []

async function main(): Promise<number> {
  // ---- 1. Build, as Netlify does, with no app variable in the environment -------------------------------------------

  const removed = Object.keys(process.env).filter((name) => APP_VARIABLE.test(name))
  for (const name of removed) delete process.env[name]
  // Deno from node_modules: the edge bundler uses the `deno` on PATH when its version fits, instead of downloading one.
  process.env.PATH = [join(tools, 'node_modules/.bin'), join(site, 'node_modules/.bin'), process.env.PATH].join(':')

  console.log(
    `Deploy check of ${site}\n  artefacts in ${relative(process.cwd(), out) || '.'}${removed.length ? `\n  removed from the build environment: ${removed.join(', ')}` : ''}`,
  )
  record(
    'no app variable in the build environment',
    Object.keys(process.env).every((name) => !APP_VARIABLE.test(name)),
  )

  await rm(out, { recursive: true, force: true })
  await seedEdgeTypes(join(cacheDirectory, 'deno_dir'))

  const functionsDir = join(out, 'functions')
  const edgeDir = join(out, 'edge-functions')
  const edgeSources = join(site, 'netlify/edge-functions')
  // The same functions beside one of the site's own, for the isolation check (4). The stand-in is copied first, into
  // the site's own `.netlify` directory whatever `--out` is: the edge bundler rewrites its sources in place, and it
  // names a source by its path from the base path, so one outside the site (`../out/canary`) is looked up from the
  // root of the bundle and not found.
  const edgeWithSiteDir = join(out, 'edge-functions-with-site-function')
  const canary = join(site, '.netlify/deploy-check-canary')
  await rm(canary, { recursive: true, force: true })
  await cp(join(tools, 'scripts/deploy-check/canary'), canary, { recursive: true })
  const built = await Promise.all([
    bundled('zip-it-and-ship-it', 'zip-it-and-ship-it bundles the Node functions', () =>
      zipFunctions(join(site, 'netlify/functions'), functionsDir, {
        basePath: site,
        repositoryRoot: site,
        manifest: join(functionsDir, 'manifest.json'),
        config: { '*': {} },
      }),
    ),
    (async () =>
      (await bundled('edge-bundler', 'the edge bundler loads and bundles the edge functions', () =>
        bundle([edgeSources], edgeDir, [], { basePath: site, cacheDirectory }),
      )) &&
      bundled('edge-bundler with a site function', 'the edge bundler bundles them beside a site function', () =>
        bundle([edgeSources, canary], edgeWithSiteDir, [], { basePath: site, cacheDirectory }),
      ))(),
  ])
  if (!built.every(Boolean)) return finish()

  // ---- 2. The manifests ----------------------------------------------------------------------------------------------

  console.log('Manifests')
  const edgeManifest = JSON.parse(await readFile(join(edgeDir, 'manifest.json'), 'utf8')) as EdgeManifest
  const functionsManifest = JSON.parse(await readFile(join(functionsDir, 'manifest.json'), 'utf8')) as FunctionsManifest
  for (const finding of checkManifests(expected, edgeManifest, functionsManifest)) record(finding.check, finding.ok, finding.detail)

  // ---- 3. What was built, answering requests --------------------------------------------------------------------------

  const ablyKey = { name: 'deployCheck.key', secret: randomBytes(24).toString('base64url') }
  const jwtSecret = randomBytes(36).toString('base64url')
  // The key has revocable tokens, as the dashboard step of ABLY_REVOCABLE_TOKENS sets it (tokens of at most an hour).
  const hub = createHub({ keys: [{ ...ablyKey, revocableTokens: true }] })
  const { url: hubUrl } = await hub.listen(0)
  const runtimeEnv: Record<string, string> = {
    ABLY_API_KEY: `${ablyKey.name}:${ablyKey.secret}`,
    JWT_SECRET: jwtSecret,
    ABLY_REST_URL: hubUrl,
    MESSAGE_STORE: 'memory',
    ABLY_ADMIN_ROLES: 'admin',
    ...sample.env,
  }
  const bearer = { Authorization: `Bearer ${await mintAppToken(jwtSecret, { userId: 'alice', ...(sample.claims && { claims: sample.claims }) })}` }
  const adminBearer = { Authorization: `Bearer ${await mintAppToken(jwtSecret, { userId: 'ops', role: 'admin' })}` }
  const contactUpdate = sample.publish
  const blobsDir = join(out, 'blobs')
  await rm(blobsDir, { recursive: true, force: true })
  const blobs = new BlobsServer({ directory: blobsDir, token: 'deploy-check', port: 0, logger: () => {} })
  const blobsUrl = `http://127.0.0.1:${(await blobs.start()).port}`
  const blobsContext = { edgeURL: blobsUrl, uncachedEdgeURL: blobsUrl, token: 'deploy-check', siteID: 'deploy-check' }
  const revocationEnv = { ABLY_REVOCABLE_TOKENS: 'true', NETLIFY_BLOBS_CONTEXT: Buffer.from(JSON.stringify(blobsContext)).toString('base64') }

  try {
    console.log('Node functions, through their Lambda entry')
    Object.assign(process.env, runtimeEnv)
    const zips = Object.fromEntries(
      await Promise.all(
        expected
          .filter((fn) => fn.runtime === 'node')
          .map(
            async (fn) =>
              [fn.name, await timed(`import ${fn.name}.zip`, () => loadLambda(join(functionsDir, `${fn.name}.zip`), join(out, 'run', fn.name)))] as const,
          ),
      ),
    )
    const lambda = (name: string) => {
      const handler = zips[name]
      if (!handler) throw new Error(`no zip for ${name}`)
      return handler
    }
    /**
     * ably-revoke with revocation on, its deny-list in Netlify Blobs: Netlify's own local Blobs server stands in for
     * the site's store, through the context Netlify hands a function (NETLIFY_BLOBS_CONTEXT).
     */
    const checkRevoke = async (revoke: ReturnType<typeof lambda>) => {
      Object.assign(process.env, revocationEnv)
      try {
        const anonymous = await revoke({ method: 'POST', path: '/api/ably/revoke', headers: {} })
        record(
          'ably-revoke: 401 invalid_token without an app JWT',
          anonymous.status === 401 && (anonymous.json as { code?: string }).code === 'invalid_token',
          anonymous,
        )
        const revoked = await revoke({ method: 'POST', path: '/api/ably/revoke', headers: bearer })
        record(
          "ably-revoke: 200 revoked, recorded in Netlify Blobs and sent to the hub's revokeTokens",
          revoked.status === 200 && (revoked.json as { revoked?: boolean }).revoked === true,
          revoked,
        )
        const stored = await readdir(blobsDir, { recursive: true }).catch(() => [])
        record(
          "ably-revoke: the deny-list record is in the site's Blobs store ably-revocations",
          stored.some((path) => String(path).includes('ably-revocations')),
          stored,
        )
      } finally {
        for (const name of Object.keys(revocationEnv)) delete process.env[name]
      }
    }
    const publish = () =>
      lambda('ably-publish')({
        method: 'POST',
        path: '/api/ably/publish',
        headers: { ...bearer, 'content-type': 'application/json', 'idempotency-key': 'deploy-check-1' },
        body: JSON.stringify(contactUpdate),
      })
    const published = await publish()
    const messageId = (published.json as { messageId?: string } | undefined)?.messageId
    record(
      'ably-publish: 200 published, against the local hub',
      published.status === 200 && (published.json as { status?: string }).status === 'published',
      published,
    )
    const onHub = (await (
      await fetch(`${hubUrl}/channels/${encodeURIComponent(contactUpdate.channelName)}/messages`, {
        headers: { authorization: `Basic ${btoa(runtimeEnv.ABLY_API_KEY ?? '')}` },
      })
    ).json()) as { id: string }[]
    record('ably-publish: the message is on the hub, with our id', onHub.length === 1 && onHub[0]?.id === messageId, onHub)
    const replay = await publish()
    record(
      'ably-publish: a retry with the same Idempotency-Key is replayed, not published again',
      replay.headers['idempotent-replayed'] === 'true' && (replay.json as { messageId?: string }).messageId === messageId,
      replay,
    )
    const wrongMethod = await lambda('ably-publish')({ method: 'DELETE', path: '/api/ably/publish', headers: {} })
    record(
      'ably-publish: DELETE gets our JSON 405 with Allow',
      wrongMethod.status === 405 && wrongMethod.headers.allow === 'POST, OPTIONS' && (wrongMethod.json as { code?: string }).code === 'method_not_allowed',
      wrongMethod,
    )
    const history = await lambda('ably-history')({
      method: 'GET',
      path: `/api/ably/history?channelName=${encodeURIComponent(contactUpdate.channelName)}`,
      headers: bearer,
    })
    record('ably-history: 200 with a page of the store', history.status === 200 && Array.isArray((history.json as { messages?: unknown }).messages), history)
    const anonymous = await lambda('ably-history')({
      method: 'GET',
      path: `/api/ably/history?channelName=${encodeURIComponent(contactUpdate.channelName)}`,
      headers: {},
    })
    record(
      'ably-history: 401 invalid_token without an app JWT',
      anonymous.status === 401 && (anonymous.json as { code?: string }).code === 'invalid_token',
      anonymous,
    )
    const health = await lambda('ably-health')({ method: 'GET', path: '/api/ably/health', headers: {} })
    record(
      "ably-health: anonymous → 200 with status and timestamp only, cacheable by Netlify's CDN for 5 s, keyed on Authorization and Origin",
      health.status === 200 &&
        JSON.stringify(Object.keys(health.json as object)) === '["status","timestamp"]' &&
        cdnCacheable(health.headers, 'header=Authorization|Origin'),
      health,
    )
    const adminHealth = await lambda('ably-health')({ method: 'GET', path: '/api/ably/health', headers: adminBearer })
    const adminChecks = (adminHealth.json as { checks?: Record<string, unknown> }).checks
    record(
      'ably-health: an admin token → every check with its figures, and never cacheable',
      adminHealth.status === 200 &&
        adminChecks !== undefined &&
        ['store', 'outbox', 'ably'].every((name) => name in adminChecks) &&
        neverCached(adminHealth.headers),
      adminHealth,
    )
    const userHealth = await lambda('ably-health')({ method: 'GET', path: '/api/ably/health', headers: bearer })
    record(
      'ably-health: a user token without an admin role → status only, and never cacheable',
      JSON.stringify(Object.keys(userHealth.json as object)) === '["status","timestamp"]' && neverCached(userHealth.headers),
      userHealth,
    )
    const sweep = await lambda('ably-outbox')({
      method: 'POST',
      path: '/.netlify/functions/ably-outbox',
      headers: { 'x-nf-event': 'schedule', 'content-type': 'application/json' },
      body: JSON.stringify({ next_run: new Date(Date.now() + 60_000).toISOString() }),
    })
    record(
      'ably-outbox: a scheduled run answers its sweep report',
      sweep.status === 200 && typeof (sweep.json as { claimed?: unknown }).claimed === 'number',
      sweep,
    )
    // A fresh instance of the outbox (a new module instance reads the environment again) with variables it never reads broken.
    Object.assign(process.env, { JWT_SECRET: 'short', CORS_ORIGIN: '*', PUBLISH_MAX_BATCH: '9999' })
    const brokenOutbox = await loadLambda(join(functionsDir, 'ably-outbox.zip'), join(out, 'run', 'ably-outbox-broken-api-variables'))
    const brokenSweep = await brokenOutbox({
      method: 'POST',
      path: '/.netlify/functions/ably-outbox',
      headers: { 'x-nf-event': 'schedule' },
      body: JSON.stringify({ next_run: new Date().toISOString() }),
    })
    record(
      'ably-outbox: still sweeps with JWT_SECRET, CORS_ORIGIN and PUBLISH_MAX_BATCH broken (it reads none of them)',
      brokenSweep.status === 200 && typeof (brokenSweep.json as { claimed?: unknown }).claimed === 'number',
      brokenSweep,
    )
    Object.assign(process.env, runtimeEnv)
    for (const name of ['CORS_ORIGIN', 'PUBLISH_MAX_BATCH']) delete process.env[name]
    await checkRevoke(lambda('ably-revoke'))

    console.log('Edge functions, from the ESZIP under Deno (stand-in Netlify global)')
    const edge = await timed('edge serve (good env)', () => serveEdge(edgeDir, join(out, 'run/edge'), runtimeEnv))
    const token = await edge.fetch('/api/ably/token', { method: 'POST', headers: bearer })
    const tokenBody = (await token.json().catch(() => undefined)) as { token?: string } | undefined
    let tokenOk = false
    if (token.status === 200 && tokenBody?.token) {
      const { payload } = await jwtVerify(tokenBody.token, new TextEncoder().encode(ablyKey.secret)).catch(() => ({ payload: undefined }))
      tokenOk = decodeProtectedHeader(tokenBody.token).kid === ablyKey.name && payload?.['x-ably-clientId'] === 'alice'
    }
    record("ably-token: 200 with an Ably JWT signed by the Ably key, for the app JWT's user", tokenOk, { status: token.status, body: tokenBody })
    const noToken = await edge.fetch('/api/ably/token', { method: 'POST' })
    record(
      'ably-token: 403 signed_out without an app JWT (the status ably-js does not retry)',
      noToken.status === 403 && ((await noToken.json()) as { code?: string }).code === 'signed_out',
      noToken.status,
    )
    const put = await edge.fetch('/api/ably/token', { method: 'PUT' })
    record('ably-token: PUT gets our JSON 405 with Allow', put.status === 405 && put.headers.get('allow') === 'GET, POST, OPTIONS', put.status)
    const stats = await edge.fetch('/api/ably/stats')
    const statsHeaders = Object.fromEntries(stats.headers)
    record(
      'ably-stats: 200 healthy, from the local hub',
      stats.status === 200 && ((await stats.json()) as { status?: string }).status === 'healthy',
      stats.status,
    )
    record(
      "ably-stats: anonymous → cacheable by Netlify's CDN for 5 s, keyed on channelName, Authorization and Origin only",
      cdnCacheable(statsHeaders, 'query=channelName,header=Authorization|Origin'),
      statsHeaders,
    )
    const userStats = await edge.fetch('/api/ably/stats', { headers: bearer })
    const userStatsHeaders = Object.fromEntries(userStats.headers)
    record('ably-stats: with a token → never cacheable', userStats.status === 200 && neverCached(userStatsHeaders), userStatsHeaders)
    const presence = await edge.fetch('/api/ably/presence?userIds=alice,bob', { headers: adminBearer })
    const presenceBody = (await presence.json().catch(() => undefined)) as { users?: { userId: string; online: boolean }[] } | undefined
    record(
      "ably-presence: an admin token → each user offline, from the hub's batch presence",
      presence.status === 200 && JSON.stringify(presenceBody?.users?.map((user) => user.online)) === '[false,false]',
      { status: presence.status, body: presenceBody },
    )
    const notAdmin = await edge.fetch('/api/ably/presence?userIds=alice', { headers: bearer })
    record(
      'ably-presence: a user token without an admin role → 403 forbidden',
      notAdmin.status === 403 && ((await notAdmin.json()) as { code?: string }).code === 'forbidden',
      notAdmin.status,
    )
    edge.stop()

    // ABLY_REVOCABLE_TOKENS=true at the edge: the Blobs client loads on demand inside the ESZIP, and reads the
    // deny-list ably-revoke wrote above (alice's session), with Netlify's Blobs context.
    const revocable = await serveEdge(edgeDir, join(out, 'run/edge'), { ...runtimeEnv, ...revocationEnv }, { unpacked: true })
    const refusedToken = await revocable.fetch('/api/ably/token', { method: 'POST', headers: bearer })
    record(
      'ably-token with revocation on: the session revoked through ably-revoke gets 403 signed_out',
      refusedToken.status === 403 && ((await refusedToken.json()) as { code?: string }).code === 'signed_out',
      refusedToken.status,
    )
    const otherToken = await revocable.fetch('/api/ably/token', { method: 'POST', headers: adminBearer })
    const otherBody = (await otherToken.json().catch(() => undefined)) as { token?: string } | undefined
    const otherClaims = otherBody?.token
      ? (await jwtVerify(otherBody.token, new TextEncoder().encode(ablyKey.secret)).catch(() => undefined))?.payload
      : undefined
    record(
      'ably-token with revocation on: another session gets a token naming its session in x-ably-revocation-key',
      otherToken.status === 200 && typeof otherClaims?.['x-ably-revocation-key'] === 'string',
      { status: otherToken.status, claims: otherClaims },
    )
    revocable.stop()

    // What a plain token request never needs is imported on first use: each must load from inside the ESZIP.
    const origin = 'https://app.example'
    const lazyParts = await serveEdge(edgeDir, join(out, 'run/edge'), { ...runtimeEnv, CORS_ORIGIN: origin, JWT_COOKIE: '__session' }, { unpacked: true })
    const preflight = await lazyParts.fetch('/api/ably/token', {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization' },
    })
    record(
      'ably-token: a CORS preflight from CORS_ORIGIN is answered (hono/cors, imported on the first preflight)',
      preflight.status === 204 && preflight.headers.get('access-control-allow-origin') === origin,
      { status: preflight.status, headers: Object.fromEntries(preflight.headers) },
    )
    const fromCookie = await lazyParts.fetch('/api/ably/token', { headers: { Cookie: `__session=${bearer.Authorization.slice('Bearer '.length)}` } })
    record(
      'ably-token: the app JWT from the JWT_COOKIE cookie gets a token (the cookie parser, imported on first use)',
      fromCookie.status === 200,
      fromCookie.status,
    )
    const withBody = await lazyParts.fetch('/api/ably/token', {
      method: 'POST',
      headers: { ...bearer, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'ttl=3600',
    })
    const tooLarge = await lazyParts.fetch('/api/ably/token', {
      method: 'POST',
      headers: { ...bearer, 'Content-Type': 'text/plain' },
      body: 'x'.repeat(20_000),
    })
    record(
      'ably-token: a POST with a body gets its token, and one over 16 KiB a 413 (the body limit, imported on the first body)',
      withBody.status === 200 && tooLarge.status === 413 && ((await tooLarge.json()) as { code?: string }).code === 'payload_too_large',
      { withBody: withBody.status, tooLarge: tooLarge.status },
    )
    lazyParts.stop()

    console.log("A bad JWT_SECRET breaks only our functions, never the site's own")
    const broken = await serveEdge(edgeWithSiteDir, join(out, 'run/edge-with-site-function'), { ...runtimeEnv, JWT_SECRET: 'short' })
    for (const path of ['/api/ably/token', '/api/ably/stats']) {
      const res = await broken.fetch(path, { method: path.endsWith('token') ? 'POST' : 'GET', headers: bearer })
      const body = (await res.json().catch(() => undefined)) as { code?: string; requestId?: string } | undefined
      record(
        `${path}: the generic JSON 500 internal_error with its requestId`,
        res.status === 500 && body?.code === 'internal_error' && body.requestId === res.headers.get('x-request-id'),
        { status: res.status, body },
      )
    }
    const siteFunction = await broken.fetch('/_deploy-check/site-function')
    record(
      "the site's own edge function in the same bundle still serves",
      siteFunction.status === 200 && (await siteFunction.text()) === 'site function ok',
      siteFunction.status,
    )
    const logged = broken
      .lines()
      .filter((line) => line.includes('"config_error"'))
      .map((line) => JSON.parse(line) as { variables?: string[]; problems?: { message?: string }[] })
    record(
      'one config_error line per failed request, naming JWT_SECRET and how to fix it (the messages, imported when a variable is bad)',
      logged.length === 2 &&
        logged.every((line) => JSON.stringify(line.variables) === '["JWT_SECRET"]' && line.problems?.[0]?.message?.startsWith('JWT_SECRET is too weak.')),
      logged,
    )
    broken.stop()

    const ttl = await serveEdge(edgeWithSiteDir, join(out, 'run/edge-with-site-function'), { ...runtimeEnv, ABLY_TOKEN_TTL: '1h' }, { unpacked: true })
    const ttlToken = await ttl.fetch('/api/ably/token', { method: 'POST', headers: bearer })
    const ttlStats = await ttl.fetch('/api/ably/stats')
    record('a bad ABLY_TOKEN_TTL breaks ably-token only: ably-stats still serves', ttlToken.status === 500 && ttlStats.status === 200, {
      token: ttlToken.status,
      stats: ttlStats.status,
    })
    ttl.stop()
  } finally {
    for (const child of children) child.kill()
    await hub.close()
    await blobs.stop()
  }

  return finish()
}

/** Prints and writes the report; the exit code. */
async function finish(): Promise<number> {
  const sizes: Record<string, number> = {}
  for (const dir of [join(out, 'functions'), join(out, 'edge-functions')]) {
    for (const file of await readdir(dir).catch(() => []))
      if (/\.(zip|eszip)$/.test(file)) sizes[relative(out, join(dir, file))] = (await stat(join(dir, file))).size
  }
  const failed = findings.filter((finding) => !finding.ok)
  const report = { site, ok: failed.length === 0, checks: findings.length, failed, sizes, timingsMs: timings, totalMs: Math.round(performance.now() - started) }
  await writeFile(join(out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`)
  console.log(
    `\nSizes: ${Object.entries(sizes)
      .map(([file, bytes]) => `${file} ${(bytes / 1024).toFixed(0)} KiB`)
      .join(', ')}`,
  )
  console.log(
    `Timings (ms): ${Object.entries(timings)
      .map(([name, ms]) => `${name} ${ms}`)
      .join(', ')}`,
  )
  console.log(
    `${failed.length === 0 ? 'PASS' : 'FAIL'}: ${findings.length - failed.length}/${findings.length} checks in ${(report.totalMs / 1000).toFixed(1)} s`,
  )
  return failed.length === 0 ? 0 : 1
}

/** Runs one bundler, recording whether it succeeded (a bundler error is a failed check, not a crash). */
async function bundled(timing: string, check: string, run: () => Promise<unknown>): Promise<boolean> {
  try {
    await timed(timing, run)
    record(check, true)
    return true
  } catch (error) {
    record(check, false, error instanceof Error ? `${error.name}: ${error.message}` : String(error))
    return false
  }
}

// ---- Helpers ---------------------------------------------------------------------------------------------------------

/**
 * The edge bundler's config extractor imports `https://edge.netlify.com/bootstrap/globals/types.ts`; offline that
 * fails and the build "passes" with no routes. The same files ship in @netlify/edge-functions-bootstrap, so they are
 * put in a private Deno cache under those URLs (Deno's layout: `remote/https/<host>/<sha256 of the path>`).
 */
async function seedEdgeTypes(denoDir: string) {
  const source = join(dirname(fileURLToPath(import.meta.resolve('@netlify/edge-functions-bootstrap/version'))), 'bootstrap')
  const dir = join(denoDir, 'remote/https/edge.netlify.com')
  await mkdir(dir, { recursive: true })
  for (const [path, file] of [
    ['/bootstrap/globals/types.ts', 'globals/types.d.ts'],
    ['/bootstrap/context.ts', 'context.d.ts'],
    ['/bootstrap/cookie.ts', 'cookie.d.ts'],
  ] as const) {
    const metadata = {
      headers: { 'content-type': 'application/typescript; charset=utf-8' },
      url: `https://edge.netlify.com${path}`,
      time: Math.floor(Date.now() / 1000),
    }
    await writeFile(
      join(dir, createHash('sha256').update(path).digest('hex')),
      `${await readFile(join(source, file), 'utf8')}\n// denoCacheMetadata=${JSON.stringify(metadata)}`,
    )
  }
}

interface LambdaRequest {
  method: string
  path: string
  headers: Record<string, string>
  body?: string
}
interface LambdaResponse {
  status: number
  headers: Record<string, string>
  json: unknown
}
type LambdaHandler = (event: unknown, stream: Writable, context: unknown) => Promise<void>

const preludes = new WeakMap<Writable, { statusCode: number; multiValueHeaders?: Record<string, string[]> }>()
// The AWS Lambda streaming globals that Netlify's bootstrap expects: enough to read the status, headers and body.
Object.assign(globalThis, {
  awslambda: {
    streamifyResponse: (handler: LambdaHandler) => handler,
    HttpResponseStream: {
      from: (stream: Writable, prelude: { statusCode: number }) => {
        preludes.set(stream, prelude)
        return stream
      },
    },
  },
})

/** Unzips a function and imports its Lambda entry; returns a way to invoke it with one request. */
async function loadLambda(zipPath: string, dir: string): Promise<(request: LambdaRequest) => Promise<LambdaResponse>> {
  await mkdir(dir, { recursive: true })
  const zip = new StreamZip.async({ file: zipPath })
  await zip.extract(null, dir)
  await zip.close()
  const { handler } = (await import(pathToFileURL(join(dir, '___netlify-entry-point.mjs')).href)) as { handler: LambdaHandler }
  return async ({ method, path, headers, body }) => {
    const stream = new PassThrough()
    const chunks: Buffer[] = []
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    const ended = new Promise((resolve) => stream.on('end', resolve))
    const event = { httpMethod: method, rawUrl: `https://site.example${path}`, headers: lower(headers), body: body ?? '', isBase64Encoded: false, flags: {} }
    await handler(event, stream, { awsRequestId: randomUUID() })
    await ended
    const prelude = preludes.get(stream)
    const text = Buffer.concat(chunks).toString('utf8')
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = text
    }
    const responseHeaders = Object.fromEntries(Object.entries(prelude?.multiValueHeaders ?? {}).map(([name, [value = '']]) => [name.toLowerCase(), value]))
    return { status: prelude?.statusCode ?? 0, headers: responseHeaders, json }
  }
}

/** An anonymous answer Netlify's CDN may keep 5 s (browsers may not), its cache key varying as `vary` says. */
function cdnCacheable(headers: Record<string, string>, vary: string): boolean {
  return (
    headers['netlify-cdn-cache-control'] === 'public, max-age=5, must-revalidate' &&
    headers['netlify-vary'] === vary &&
    headers['cache-control'] === 'no-store' &&
    /authorization/i.test(headers.vary ?? '')
  )
}

/** An answer no cache keeps: `no-store`, and no CDN directive at all. */
function neverCached(headers: Record<string, string>): boolean {
  return headers['cache-control'] === 'no-store' && headers['netlify-cdn-cache-control'] === undefined && headers['netlify-vary'] === undefined
}

const lower = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]))

/** Unpacks the ESZIP in `bundleDir` (unless done already) and serves it under Deno with `env` behind the Netlify global. */
async function serveEdge(bundleDir: string, runDir: string, env: Record<string, string>, { unpacked = false } = {}) {
  const manifest = JSON.parse(await readFile(join(bundleDir, 'manifest.json'), 'utf8')) as EdgeManifest
  const eszip = join(bundleDir, manifest.bundles[0]?.asset ?? '')
  const vendor = join(dirname(fileURLToPath(import.meta.resolve('@netlify/edge-bundler'))), '../../deno/vendor')
  const scripts = join(tools, 'scripts/deploy-check/deno')
  if (!unpacked) {
    await rm(runDir, { recursive: true, force: true })
    await run('deno', [
      'run',
      '--no-config',
      '--allow-read',
      '--allow-write',
      `--import-map=${join(vendor, 'import_map.json')}`,
      join(scripts, 'unpack-eszip.ts'),
      vendor,
      eszip,
      runDir,
    ])
  }
  const envFile = join(runDir, `env-${randomUUID()}.json`)
  await writeFile(envFile, JSON.stringify(env), { mode: 0o600 })
  const child = spawn(
    'deno',
    [
      'run',
      '--no-config',
      '--allow-read',
      '--allow-net=127.0.0.1',
      `--import-map=${join(runDir, 'import_map.json')}`,
      join(scripts, 'serve-edge.ts'),
      runDir,
      join(bundleDir, 'manifest.json'),
      envFile,
    ],
    {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DENO_DIR: join(cacheDirectory, 'deno_dir'), NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  children.push(child)
  const lines: string[] = []
  const port = await new Promise<number>((resolvePort, reject) => {
    child.once('exit', (code) => reject(new Error(`serve-edge exited with ${code}`)))
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line)
      const match = /^\{"port":(\d+)\}$/.exec(line)
      if (match) resolvePort(Number(match[1]))
    })
  })
  return {
    fetch: (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${port}${path}`, init),
    lines: () => [...lines],
    stop: () => child.kill(),
  }
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] })
    child.once('exit', (code) => (code === 0 ? resolveRun() : reject(new Error(`${command} ${args[1] ?? ''} exited with ${code}`))))
  })
}

process.exit(await main())
