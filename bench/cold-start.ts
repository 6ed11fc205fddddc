/**
 * Cold start of each Netlify edge entry: its esbuild bundle (as bench/bundle-size.ts builds and sizes it), then fresh Node and
 * Deno processes that set a `Netlify.env` shim, import the bundle and answer one request. Each child reports
 * `performance.now()` from just before the import to the first response's body, then exits; the parent also times
 * the whole process, spawn to exit.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createHub } from '../src/hub/index.ts'
import { bundle } from './bundle.ts'
import { denoExecutable, type Runtime } from './children.ts'
import { median } from './stats.ts'
import { ABLY_KEY_NAME, ABLY_KEY_SECRET, BENCH_ENV, mintAppTokens } from './token/fixtures.ts'

export interface ColdStartRun {
  /** Import plus first response, measured inside the child. */
  importAndFirstResponseMs: number
  /** The CPU time (user + system, all threads) the child spent on it: steadier than wall time on a busy machine. */
  cpuMs: number
  /** Spawn to exit, measured by the parent. */
  processMs: number
  status: number
}

export interface ColdStartResult {
  entry: string
  /** Medians over the runs, per runtime. */
  node: { importAndFirstResponseMs: number; cpuMs: number; processMs: number; runs: ColdStartRun[] }
  deno: { importAndFirstResponseMs: number; cpuMs: number; processMs: number; runs: ColdStartRun[] }
}

/** The child: a `Netlify.env` shim (as tests/deno/netlify-edge.test.ts sets it), the request, then the timed part. */
function childProgram(bundleFile: string, env: Record<string, string>, request: { url: string; method: string; headers: Record<string, string> }): string {
  return `const vars = new Map(Object.entries(${JSON.stringify(env)}))
globalThis.Netlify = { context: null, env: { get: (k) => vars.get(k), has: (k) => vars.has(k), set: (k, v) => void vars.set(k, v), delete: (k) => void vars.delete(k), toObject: () => Object.fromEntries(vars) } }
const request = new Request(${JSON.stringify(request.url)}, { method: ${JSON.stringify(request.method)}, headers: ${JSON.stringify(request.headers)} })
const cpu = () => { const usage = globalThis.process.cpuUsage(); return (usage.user + usage.system) / 1000 }
const cpuStarted = cpu()
const started = performance.now()
const { default: handle } = await import(${JSON.stringify(pathToFileURL(bundleFile).href)})
const res = await handle(request)
await res.text()
const ms = performance.now() - started
console.log(JSON.stringify({ importAndFirstResponseMs: ms, cpuMs: cpu() - cpuStarted, status: res.status }))
// Exit now: a timer the app leaves armed (the deadline's) would keep an idle Deno process alive.
if (globalThis.Deno) Deno.exit(0)
else process.exit(0)
`
}

function runChild(runtime: Runtime, dir: string, program: string): Promise<ColdStartRun> {
  const args =
    runtime === 'node'
      ? [process.execPath, [program]]
      : [denoExecutable(), ['run', '--quiet', '--no-config', '--cached-only', '--allow-net=127.0.0.1', `--allow-read=${dir}`, program]]
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(args[0] as string, args[1] as string[], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, DENO_NO_UPDATE_CHECK: '1' } })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk))
    child.once('error', reject)
    child.once('close', (code) => {
      const processMs = performance.now() - started
      const line = out.trim().split('\n').at(-1) ?? ''
      if (code !== 0 || !line.startsWith('{')) return reject(new Error(`${runtime} cold start exited ${code}: ${out.slice(0, 300)}`))
      resolve({ ...(JSON.parse(line) as Omit<ColdStartRun, 'processMs'>), processMs })
    })
  })
}

/**
 * The baselines beside them (`bench/cold-start-entries/`): a bare Hono app; one doing the least of the token job with
 * WebCrypto alone (verify one HMAC, sign one); and one doing the token job with jose.
 */
export const BARE_HONO_ENTRIES = [
  'bench/cold-start-entries/bare-hono.ts',
  'bench/cold-start-entries/bare-hono-webcrypto.ts',
  'bench/cold-start-entries/bare-hono-jose.ts',
]

/** Requests the entries answer, by file name; ably-stats's first response waits for the hub's /time on loopback. */
const FIRST_REQUESTS: Record<string, { url: string; method: string }> = {
  'ably-token': { url: 'https://site.example/api/ably/token', method: 'POST' },
  'ably-stats': { url: 'https://site.example/api/ably/stats', method: 'GET' },
  'bare-hono': { url: 'https://site.example/api/ably/token', method: 'POST' },
  'bare-hono-webcrypto': { url: 'https://site.example/api/ably/token', method: 'POST' },
  'bare-hono-jose': { url: 'https://site.example/api/ably/token', method: 'POST' },
}

/** Bundles each edge entry (paths from the repository root) and starts it `runs` times per runtime, alternating. */
export async function measureColdStarts(entries: readonly string[], { runs = 7 } = {}): Promise<ColdStartResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'cold-start-'))
  const hub = createHub({ keys: [{ name: ABLY_KEY_NAME, secret: ABLY_KEY_SECRET }] })
  const { port } = await hub.listen()
  try {
    const env = { ...BENCH_ENV, ABLY_REST_URL: `http://127.0.0.1:${port}` }
    const [appToken] = await mintAppTokens(1)
    const programs: { entry: string; programFile: string }[] = []
    for (const entry of entries) {
      const name = basename(entry, '.ts')
      const request = FIRST_REQUESTS[name]
      if (!request) throw new Error(`cold start: no first request for ${entry}`)
      const bundleFile = join(dir, `${name}.mjs`)
      const programFile = join(dir, `${name}-start.mjs`)
      await writeFile(bundleFile, await bundle(entry))
      await writeFile(programFile, childProgram(bundleFile, env, { ...request, headers: { authorization: `Bearer ${appToken}` } }))
      programs.push({ entry, programFile })
    }
    // Entries and runtimes alternate within each run, so a busy moment of the machine falls on all of them alike.
    const byEntry = new Map(programs.map(({ entry }) => [entry, { node: [] as ColdStartRun[], deno: [] as ColdStartRun[] }]))
    for (let run = 0; run < runs; run++) {
      for (const { entry, programFile } of run % 2 === 0 ? programs : [...programs].reverse()) {
        const byRuntime = byEntry.get(entry)
        if (!byRuntime) continue
        for (const runtime of run % 2 === 0 ? (['node', 'deno'] as const) : (['deno', 'node'] as const))
          byRuntime[runtime].push(await runChild(runtime, dir, programFile))
      }
    }
    const summary = (list: ColdStartRun[]) => ({
      importAndFirstResponseMs: median(list.map((r) => r.importAndFirstResponseMs)),
      cpuMs: median(list.map((r) => r.cpuMs)),
      processMs: median(list.map((r) => r.processMs)),
      runs: list,
    })
    const results: ColdStartResult[] = programs.map(({ entry }) => {
      const byRuntime = byEntry.get(entry) ?? { node: [], deno: [] }
      return { entry, node: summary(byRuntime.node), deno: summary(byRuntime.deno) }
    })
    return results
  } finally {
    await hub.close()
    await rm(dir, { recursive: true, force: true })
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const results = await measureColdStarts(['netlify/edge-functions/ably-token.ts', ...BARE_HONO_ENTRIES], { runs: 15 })
  console.log(JSON.stringify(results, (key, value: unknown) => (key === 'runs' ? undefined : value), 2))
  const [ours, ...baselines] = results
  for (const baseline of baselines) {
    if (!ours) break
    const { deno: a } = ours
    const { deno: b } = baseline
    console.log(
      `Deno, import + first response, median of 15: ably-token ${a.importAndFirstResponseMs.toFixed(2)} ms (${a.cpuMs.toFixed(2)} ms CPU), ` +
        `${basename(baseline.entry, '.ts')} ${b.importAndFirstResponseMs.toFixed(2)} ms (${b.cpuMs.toFixed(2)} ms CPU): ` +
        `${(a.importAndFirstResponseMs / b.importAndFirstResponseMs).toFixed(2)}× wall, ${(a.cpuMs / b.cpuMs).toFixed(2)}× CPU`,
    )
  }
}
