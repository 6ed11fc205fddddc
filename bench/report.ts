/** The bench's one table and its goals, from the results `bench/run.ts` gathered (and writes to bench/results.json). */
import type { BundleSizeReport } from './bundle-size.ts'
import type { Runtime } from './children.ts'
import type { ColdStartResult } from './cold-start.ts'
import type { ConnectResult } from './connect.ts'
import type { GatewayBench } from './gateway.ts'
import type { HubFanoutResult } from './hub-fanout.ts'
import { median, medianStats, type RunStats } from './stats.ts'
import type { LoadStats } from './token/load.ts'

/** One contender in one mode on one runtime: the median of its rounds, and ours over it. */
export interface ContenderSummary {
  label: string
  median: RunStats & { serverCpuUsPerRequest?: number }
  /** Median over rounds of ours' req/s over this contender's in the same round (> 1: ours is faster). */
  oursOverThis?: number
  rounds: (RunStats | LoadStats)[]
}

export type ModeResults = Partial<Record<Runtime, Record<string, ContenderSummary>>>

export interface Goal {
  goal: string
  target: string
  measured: string
  met: boolean
}

export interface Machine {
  cpus: number
  cpuModel: string
  memoryGiB: number
  os: string
  node: string
  deno: string
}

export interface Results {
  command: string
  machine: Machine
  startedAt: string
  wallSeconds: number
  settings: Record<string, number>
  tokenRoute: {
    tokens: { distinct: number; maxRequestsInOneRun: number }
    inProcess: ModeResults
    http: ModeResults
  }
  connect: ConnectResult
  bundleSizes: BundleSizeReport
  coldStart: ColdStartResult[]
  gateway: GatewayBench
  hubFanout: HubFanoutResult
  goals: Goal[]
}

const LABELS: Record<string, string> = {
  ours: 'ours: Hono app, jose verify, signed Ably JWT',
  tokenRequest: '(a) Hono + jose + ably-js createTokenRequest',
  expressString: '(b) Express 5 + jsonwebtoken, string secrets',
  expressKeyObject: '(b) Express 5 + jsonwebtoken, KeyObjects',
}
const SHORT_NAMES: Record<string, string> = {
  tokenRequest: '(a) createTokenRequest',
  expressString: '(b) Express, strings',
  expressKeyObject: '(b) Express, KeyObjects',
}
const CEILINGS: Record<Runtime, { inProcess: string; http: string }> = {
  node: { inProcess: '(c) ceiling: fetch handler + createHmac', http: '(c) ceiling: node:http + createHmac' },
  deno: { inProcess: '(c) ceiling: fetch handler + WebCrypto', http: '(c) ceiling: Deno.serve + WebCrypto' },
}

/** Summarises each contender's rounds; ours is paired round by round with every other contender. */
export function summarise(runtime: Runtime, mode: 'inProcess' | 'http', rounds: Record<string, (RunStats | LoadStats)[]>): Record<string, ContenderSummary> {
  const ours = rounds.ours ?? []
  return Object.fromEntries(
    Object.entries(rounds).map(([name, list]) => {
      const cpu = list.map((run) => ('serverCpuUsPerRequest' in run ? run.serverCpuUsPerRequest : undefined)).filter((value) => value !== undefined)
      const summary: ContenderSummary = {
        label: name === 'ceiling' ? CEILINGS[runtime][mode] : (LABELS[name] ?? name),
        median: { ...medianStats(list), ...(cpu.length > 0 && { serverCpuUsPerRequest: median(cpu) }) },
        rounds: list,
      }
      if (name !== 'ours') summary.oursOverThis = median(list.map((run, index) => (ours[index]?.requestsPerSecond ?? Number.NaN) / run.requestsPerSecond))
      return [name, summary]
    }),
  )
}

const TOKEN_ENTRY = 'netlify/edge-functions/ably-token.ts'
const alternatives = (results: Record<string, ContenderSummary>) => Object.entries(results).filter(([name]) => name !== 'ours' && name !== 'ceiling')

/** The goals, each measured in this run. */
export function evaluateGoals({ tokenRoute, connect, bundleSizes, coldStart }: Pick<Results, 'tokenRoute' | 'connect' | 'bundleSizes' | 'coldStart'>): Goal[] {
  const goals: Goal[] = []
  for (const [runtime, results] of Object.entries(tokenRoute.http) as [Runtime, Record<string, ContenderSummary>][]) {
    const [fastestName, fastest] = alternatives(results).sort(([, a], [, b]) => b.median.requestsPerSecond - a.median.requestsPerSecond)[0] ?? []
    if (fastest && fastestName) {
      goals.push({
        goal: `Token route ≥ 1.2× the fastest alternative, loopback HTTP, ${runtime}`,
        target: '≥ 1.20×',
        measured: `${times(fastest.oursOverThis)} vs ${SHORT_NAMES[fastestName] ?? fastestName}`,
        met: (fastest.oursOverThis ?? 0) >= 1.2,
      })
    }
    const ceiling = results.ceiling
    if (ceiling)
      goals.push({
        goal: `Token route ≥ 50% of the ceiling, loopback HTTP, ${runtime}`,
        target: '≥ 50%',
        measured: percent(ceiling.oursOverThis),
        met: (ceiling.oursOverThis ?? 0) >= 0.5,
      })
  }
  goals.push({ goal: 'Time to a usable connection ≤ 0.7× the TokenRequest flow', target: '≤ 0.70×', measured: times(connect.ratio), met: connect.ratio <= 0.7 })
  // Issues 12 and 13: the budget is what an isolate with only JWT_SECRET and the default policy evaluates.
  const { hs256Only, withKeys, hs256OnlyCodeSplitting } = bundleSizes.tokenEntrySplit
  goals.push({
    goal: 'Token edge entry, HS256 only (default policy) ≤ 20 KB gzip',
    target: '≤ 20,480 B',
    measured: `${count(hs256Only.gzip)} B (with keys ${count(withKeys.gzip)} B; cut by code splitting ${count(hs256OnlyCodeSplitting.gzip)} B)`,
    met: hs256Only.gzip <= 20 * 1024,
  })
  const start = coldStart.find(({ entry }) => entry === TOKEN_ENTRY)
  if (start)
    goals.push({
      goal: 'Token edge entry: import + first response ≤ 10 ms on Deno',
      target: '≤ 10 ms',
      measured: ms(start.deno.importAndFirstResponseMs),
      met: start.deno.importAndFirstResponseMs <= 10,
    })
  // Issue 9: the token entry's cold start beside each baseline's, same run: a bare Hono app, one doing the least of the
  // token job with WebCrypto alone, and one doing it with jose.
  for (const [baseline, label] of [
    ['/bare-hono.ts', 'a bare Hono app'],
    ['/bare-hono-webcrypto.ts', 'a bare Hono app verifying and signing one HMAC with WebCrypto'],
    ['/bare-hono-jose.ts', 'a bare Hono app verifying and signing with jose'],
  ] as const) {
    const bare = coldStart.find(({ entry }) => entry.endsWith(baseline))
    if (!start || !bare) continue
    const wall = start.deno.importAndFirstResponseMs / bare.deno.importAndFirstResponseMs
    const cpu = start.deno.cpuMs / bare.deno.cpuMs
    goals.push({
      goal: `Token edge entry cold start ≤ 1.5× ${label}, Deno`,
      target: '≤ 1.50×',
      measured: `${times(wall)} wall (${ms(start.deno.importAndFirstResponseMs)} vs ${ms(bare.deno.importAndFirstResponseMs)}), ${times(cpu)} CPU`,
      met: wall <= 1.5,
    })
  }
  return goals
}

const ms = (value: number) => `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`
const times = (value: number | undefined) => (value === undefined ? '—' : `${value.toFixed(2)}×`)
const percent = (value: number | undefined) => (value === undefined ? '—' : `${Math.round(value * 100)}%`)
const count = (value: number) => Math.round(value).toLocaleString('en-US')
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`
const RUNTIME_NAMES: Record<Runtime, string> = { node: 'Node', deno: 'Deno' }

/** The one table, in Markdown: one row per measurement, then the goals. */
export function renderTable(results: Results): string {
  const rows: string[][] = []
  for (const [mode, title] of [
    ['inProcess', 'Token route, in process'],
    ['http', 'Token route, loopback HTTP'],
  ] as const) {
    for (const [runtime, contenders] of Object.entries(results.tokenRoute[mode]) as [Runtime, Record<string, ContenderSummary>][]) {
      for (const [name, { label, median: stats, oursOverThis }] of Object.entries(contenders)) {
        const cpu = stats.serverCpuUsPerRequest === undefined ? '' : ` · ${Math.round(stats.serverCpuUsPerRequest)} µs CPU/req`
        rows.push([
          '1',
          title,
          RUNTIME_NAMES[runtime],
          label,
          `${count(stats.requestsPerSecond)} req/s`,
          `p50 ${ms(stats.p50Ms)} · p99 ${ms(stats.p99Ms)}${cpu}`,
          name === 'ours' ? '—' : `ours ${times(oursOverThis)}`,
        ])
      }
    }
  }
  const { connect } = results
  rows.push([
    '2',
    'Time to a usable connection',
    'Node',
    'ours: POST token → connect with the JWT',
    `${ms(connect.oursMs)} median`,
    `p90 ${ms(connect.oursP90Ms)} · ${connect.trials} trials`,
    '—',
  ])
  rows.push([
    '2',
    'Time to a usable connection',
    'Node',
    '(a) POST → TokenRequest → requestToken → connect',
    `${ms(connect.tokenRequestMs)} median`,
    `p90 ${ms(connect.tokenRequestP90Ms)} · ${connect.trials} trials`,
    `ours ${times(connect.ratio)} the time`,
  ])
  for (const { entry, node, deno } of results.coldStart) {
    const name = entry.split('/').at(-1) ?? entry
    const size = results.bundleSizes.edgeEntries[entry]
    const bundle = size ? `bundle ${kb(size.raw)} · ${kb(size.gzip)} gzip` : 'bundle'
    for (const [runtime, run] of [
      ['Node', node],
      ['Deno', deno],
    ] as const) {
      rows.push([
        '3',
        `Cold start, ${name}`,
        runtime,
        bundle,
        `${ms(run.importAndFirstResponseMs)} import + first response`,
        `whole process ${ms(run.processMs)} · ${run.runs.length} runs`,
        '',
      ])
    }
  }
  const { gateway } = results
  for (const overhead of gateway.overhead) {
    rows.push([
      '4',
      'Gateway overhead per message, in process',
      'Node',
      `${overhead.store} store, no-op Ably`,
      `${ms(overhead.p50Ms)} p50`,
      `p99 ${ms(overhead.p99Ms)} · mean ${ms(overhead.meanMs)}`,
      '',
    ])
  }
  const { throughput } = gateway
  rows.push([
    '4',
    'Gateway throughput to the hub',
    'Node',
    `${throughput.messages} messages, one per request`,
    `${count(throughput.single.messagesPerSecond)} msg/s`,
    `${throughput.single.ablyRequests} Ably requests`,
    '',
  ])
  rows.push([
    '4',
    'Gateway throughput to the hub',
    'Node',
    `the same in batches of ${throughput.batchSize}`,
    `${count(throughput.batch.messagesPerSecond)} msg/s`,
    `${throughput.batch.ablyRequests} Ably requests`,
    `batched ${throughput.speedup}× single`,
  ])
  const fanout = results.hubFanout
  rows.push([
    '5',
    'Hub fan-out',
    'Node',
    `${fanout.subscribers} msgpack subscribers, ${fanout.messages} messages`,
    `${count(fanout.deliveriesPerSecond)} deliveries/s`,
    `${count(fanout.deliveriesPerSecond / fanout.subscribers)} msg/s to all ${fanout.subscribers}${fanout.complete ? '' : ' · INCOMPLETE'}`,
    '',
  ])
  for (const goal of results.goals) rows.push(['goal', goal.goal, '', `target ${goal.target}`, goal.measured, goal.met ? 'met' : 'MISSED', ''])

  const header = ['#', 'Benchmark', 'Runtime', 'Contender / case', 'Result', 'Detail', 'Ratio']
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n')
}
