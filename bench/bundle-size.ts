/**
 * Bundle sizes of the edge entries, and the stats route's Ably REST port compared: plain `fetch` (src/ably-rest)
 * against ably-js's modular build. `npx tsx bench/bundle-size.ts` prints JSON; `bench/run.ts` imports the functions.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import { Miniflare } from 'miniflare'
import { bundle, bundleSplit, bundleStatic } from './bundle.ts'

/** Bytes of a minified bundle, as shipped and gzipped (level 9). */
export interface Size {
  raw: number
  gzip: number
}

export interface BundleSizeReport {
  /** Each Netlify edge entry, bundled whole. */
  edgeEntries: Record<string, Size>
  /**
   * The token entry split at its dynamic imports (issue 12), each part bundled as one module with its dynamic imports
   * left out (`bundleStatic`): `hs256Only` is the code on the path of an isolate with only JWT_SECRET and the default
   * policy (the budget: 20 KB gzip); `withKeys` with a provider's keys (the provider config reader at the first
   * request, the key-set code at the first provider token: every export of both kept), and `keySetCode` those two
   * modules' own lazy chunks. `hs256OnlyCodeSplitting` is `hs256Only` as esbuild's code splitting cuts it, the figure
   * reported until this stop: its shared chunks also keep the exports only the lazy chunks use, plus the imports and
   * exports that link the chunks. `edgeEntries` above is the whole
   * entry, every lazy chunk included. `teamChat` is `hs256Only` with the team chat policy instead of the SMS inbox (a
   * site's policy, checked where it loads: `defineChannelPolicy` and the whole derivation are on its path).
   */
  tokenEntrySplit: { hs256Only: Size; keySetCode: Size; withKeys: Size; hs256OnlyCodeSplitting: Size; teamChat: Size }
  /** The Cloudflare Workers entry, for the Workers size limit. */
  workerEntry: Size
  /** The token edge entry with the team chat policy (the default entry has the SMS inbox). */
  tokenEntryTeamChat: Size
  /** Whether zod (the payload schemas' library) reached an edge entry: it must not. */
  zodAtTheEdge: boolean
  /** The stats route's Ably REST port. */
  statsPort: {
    /** A minimal stats entry over the plain-`fetch` port. */
    fetch: Size
    /** The same entry over the ably/modular port (`BaseRest` + `FetchRequest`). */
    ablyModular: Size
    /** The ably-stats edge entry with the ably/modular port injected (createApp still bundles its default). */
    edgeStatsWithAblyModular: Size
  }
}

/** What happened when a minimal stats entry ran against a fake Ably on loopback. */
export interface RuntimeTry {
  ok: boolean
  status?: number
  detail: string
}

export type PortName = 'fetch' | 'ablyModular'

const EDGE_ENTRIES = ['netlify/edge-functions/ably-token.ts', 'netlify/edge-functions/ably-stats.ts']
const TEAM_CHAT_TOKEN_ENTRY = 'bench/token-entries/team-chat.ts'
const STATS_ENTRIES: Record<PortName, string> = {
  fetch: 'bench/stats-entries/fetch.ts',
  ablyModular: 'bench/stats-entries/ably-modular.ts',
}
/** What only an isolate with a provider's keys loads: the provider config reader and the key-set code. */
const KEY_SET_MODULES = ['src/config/jwt.ts', 'src/auth/keys.ts']
const TOKEN_ENTRY = 'netlify/edge-functions/ably-token.ts'
const BENCH_ABLY_KEY = 'benchApp.benchKey:bench-ably-key-secret-0123456789'

const sizeOf = (code: string): Size => ({ raw: Buffer.byteLength(code), gzip: gzipSync(code, { level: 9 }).length })
const measure = async (entry: string) => sizeOf(await bundle(entry))

/** Bundles every entry (minified ESM, web conditions, tree-shaken) and reports raw and gzip bytes. */
export async function measureBundleSizes(): Promise<BundleSizeReport> {
  const edgeEntries = Object.fromEntries(await Promise.all(EDGE_ENTRIES.map(async (entry) => [entry, await measure(entry)] as const)))
  const edgeCode = await Promise.all([...EDGE_ENTRIES, TEAM_CHAT_TOKEN_ENTRY].map((entry) => bundle(entry, { minify: false })))
  const split = await bundleSplit(TOKEN_ENTRY)
  return {
    edgeEntries,
    tokenEntrySplit: {
      hs256Only: sizeOf(await bundleStatic([TOKEN_ENTRY])),
      keySetCode: sizeOf(split.lazyOf(KEY_SET_MODULES)),
      withKeys: sizeOf(await bundleStatic([TOKEN_ENTRY, ...KEY_SET_MODULES])),
      hs256OnlyCodeSplitting: sizeOf(split.initial),
      teamChat: sizeOf(await bundleStatic([TEAM_CHAT_TOKEN_ENTRY])),
    },
    workerEntry: await measure('hosts/cloudflare-worker.ts'),
    tokenEntryTeamChat: await measure(TEAM_CHAT_TOKEN_ENTRY),
    // zod's own error class name survives minification as a string in its bundle.
    zodAtTheEdge: edgeCode.some((code) => code.includes('node_modules/zod') || code.includes('ZodError')),
    statsPort: {
      fetch: await measure(STATS_ENTRIES.fetch),
      ablyModular: await measure(STATS_ENTRIES.ablyModular),
      edgeStatsWithAblyModular: await measure('bench/stats-entries/edge-stats-ably-modular.ts'),
    },
  }
}

/** Runs each port's minimal stats entry, bundled, in Deno and in workerd against a fake Ably REST API on loopback. */
export async function tryStatsPortRuntimes(): Promise<Record<PortName, { deno: RuntimeTry; workerd: RuntimeTry }>> {
  const ably = await fakeAblyRest()
  const dir = await mkdtemp(join(tmpdir(), 'bundle-size-'))
  try {
    const env = { ABLY_API_KEY: BENCH_ABLY_KEY, ABLY_REST_URL: `http://127.0.0.1:${(ably.address() as AddressInfo).port}` }
    const tries = async (port: PortName) => {
      const script = await bundle(STATS_ENTRIES[port])
      const file = join(dir, `${port}.mjs`)
      await writeFile(file, script)
      return { deno: await runInDeno(file, env), workerd: await runInWorkerd(script, env) }
    }
    return { fetch: await tries('fetch'), ablyModular: await tries('ablyModular') }
  } finally {
    ably.close()
    await rm(dir, { recursive: true, force: true })
  }
}

const STATS_URL = 'http://bench.example/?channelName=notifications:bench'

async function runInDeno(file: string, env: Record<string, string>): Promise<RuntimeTry> {
  const program = `const { default: entry } = await import(${JSON.stringify(pathToFileURL(file).href)})
const res = await entry.fetch(new Request(${JSON.stringify(STATS_URL)}), ${JSON.stringify(env)})
console.log(JSON.stringify({ status: res.status, body: await res.text() }))`
  const deno = fileURLToPath(import.meta.resolve('deno/bin.cjs'))
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [deno, 'eval', '--no-config', '--cached-only', '--allow-net=127.0.0.1', `--allow-read=${file}`, program],
      {
        env: { ...process.env, DENO_NO_UPDATE_CHECK: '1' },
        timeout: 30_000,
      },
    )
    const { status, body } = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { status: number; body: string }
    return { ok: status === 200, status, detail: body.slice(0, 300) }
  } catch (error) {
    return { ok: false, detail: String(error).slice(0, 500) }
  }
}

async function runInWorkerd(script: string, env: Record<string, string>): Promise<RuntimeTry> {
  const mf = new Miniflare({ modules: true, script, bindings: env, compatibilityDate: '2025-11-01' })
  try {
    const res = await mf.dispatchFetch(STATS_URL)
    const body = await res.text()
    return { ok: res.status === 200, status: res.status, detail: body.slice(0, 300) }
  } catch (error) {
    return { ok: false, detail: String(error).slice(0, 500) }
  } finally {
    await mf.dispose()
  }
}

/** Answers `GET /time` and `GET /channels/:name` as Ably's REST API does; anything else is a 404. */
async function fakeAblyRest(): Promise<Server> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    const metrics = { connections: 1, presenceConnections: 0, presenceMembers: 0, presenceSubscribers: 1, publishers: 0, subscribers: 1 }
    const body =
      path === '/time'
        ? [Date.now()]
        : path.startsWith('/channels/')
          ? { channelId: decodeURIComponent(path.slice('/channels/'.length)), status: { isActive: true, occupancy: { metrics } } }
          : undefined
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body ?? { error: { code: 40400, statusCode: 404, message: 'Not found' } }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return server
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify({ sizes: await measureBundleSizes(), runtimes: await tryStatsPortRuntimes() }, null, 2))
}
