/**
 * `npm run bench`: every benchmark in one run, on loopback only, bounded in time. Prints one Markdown table (progress
 * goes to stderr) and writes bench/results.json. Method and contenders: bench/README.md.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, cpus, release, tmpdir, totalmem, type } from 'node:os'
import { join } from 'node:path'
import { denoExecutable, runToJson, type Runtime } from './children.ts'
import { measureBundleSizes } from './bundle-size.ts'
import { BARE_HONO_ENTRIES, measureColdStarts } from './cold-start.ts'
import { measureConnect } from './connect.ts'
import { measureGateway } from './gateway.ts'
import { measureHubFanout } from './hub-fanout.ts'
import { evaluateGoals, renderTable, summarise, type Machine, type ModeResults, type Results } from './report.ts'
import type { RunStats } from './stats.ts'
import { DENO_CONTENDERS, mintAppTokens, NODE_CONTENDERS } from './token/fixtures.ts'
import { measureTokenHttp } from './token/http.ts'

const started = performance.now()

/** The knobs, chosen so the whole run takes about 2–3 minutes on 2 cores. */
const SETTINGS = {
  /** Distinct users, one app JWT each; no measured run presents one twice (checked below). */
  tokens: 65_536,
  inProcessRounds: 5,
  inProcessWarmupMs: 500,
  inProcessMeasureMs: 600,
  httpRounds: 5,
  httpConnections: 10,
  httpWarmupMs: 300,
  httpMeasureMs: 1200,
  connectTrials: 100,
  coldStartRuns: 7,
}

const progress = (message: string) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${message}\n`)

function machine(): Machine {
  const cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown'
  return {
    cpus: availableParallelism(),
    cpuModel,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${type()} ${release()}`,
    node: process.version,
    deno: execFileSync(denoExecutable(), ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? 'unknown',
  }
}

async function tokenRoute(tokensFile: string) {
  const inProcess: ModeResults = {}
  const http: ModeResults = {}
  for (const runtime of ['node', 'deno'] as const satisfies readonly Runtime[]) {
    progress(`token route in process on ${runtime}`)
    const options = { tokensFile, rounds: SETTINGS.inProcessRounds, warmupMs: SETTINGS.inProcessWarmupMs, measureMs: SETTINGS.inProcessMeasureMs }
    const rounds = await runToJson<Record<string, RunStats[]>>(runtime, 'bench/token/in-process.ts', [JSON.stringify(options)])
    inProcess[runtime] = summarise(runtime, 'inProcess', rounds)
  }
  for (const runtime of ['node', 'deno'] as const satisfies readonly Runtime[]) {
    progress(`token route over loopback HTTP on ${runtime}`)
    const rounds = await measureTokenHttp({
      runtime,
      contenders: runtime === 'node' ? NODE_CONTENDERS : DENO_CONTENDERS,
      tokensFile,
      tokenCount: SETTINGS.tokens,
      rounds: SETTINGS.httpRounds,
      connections: SETTINGS.httpConnections,
      warmupMs: SETTINGS.httpWarmupMs,
      measureMs: SETTINGS.httpMeasureMs,
    })
    http[runtime] = summarise(runtime, 'http', rounds)
  }
  const runs = [...Object.values(inProcess), ...Object.values(http)].flatMap((contenders) => Object.values(contenders ?? {}).flatMap(({ rounds }) => rounds))
  const maxRequestsInOneRun = Math.max(...runs.map(({ requests }) => requests))
  if (maxRequestsInOneRun > SETTINGS.tokens) progress(`WARNING: a run made ${maxRequestsInOneRun} requests, more than the ${SETTINGS.tokens} distinct tokens`)
  return { tokens: { distinct: SETTINGS.tokens, maxRequestsInOneRun }, inProcess, http }
}

const startedAt = new Date().toISOString()
const dir = await mkdtemp(join(tmpdir(), 'bench-'))
try {
  progress(`minting ${SETTINGS.tokens} app JWTs`)
  const tokensFile = join(dir, 'tokens.txt')
  await writeFile(tokensFile, (await mintAppTokens(SETTINGS.tokens)).join('\n'))
  const token = await tokenRoute(tokensFile)
  progress('time to a usable connection')
  const connect = await measureConnect({ trials: SETTINGS.connectTrials })
  progress('bundle sizes (bench/bundle-size.ts) and cold starts')
  const bundleSizes = await measureBundleSizes()
  const coldStart = await measureColdStarts([...Object.keys(bundleSizes.edgeEntries), ...BARE_HONO_ENTRIES], { runs: SETTINGS.coldStartRuns })
  progress('publish gateway (bench/gateway.ts)')
  const gateway = await measureGateway()
  progress('hub fan-out (bench/hub-fanout.ts)')
  const hubFanout = await measureHubFanout()
  const partial = { tokenRoute: token, connect, bundleSizes, coldStart }
  const results: Results = {
    command: 'npm run bench',
    machine: machine(),
    startedAt,
    wallSeconds: Math.round((performance.now() - started) / 100) / 10,
    settings: SETTINGS,
    ...partial,
    gateway,
    hubFanout,
    goals: evaluateGoals(partial),
  }
  await writeFile('bench/results.json', `${JSON.stringify(results, null, 2)}\n`)
  const { cpus: count, cpuModel, node, deno } = results.machine
  console.log(renderTable(results))
  console.log(`\n${count} × ${cpuModel} · Node ${node} · ${deno} · ${results.wallSeconds} s · bench/results.json`)
} finally {
  await rm(dir, { recursive: true, force: true })
}
