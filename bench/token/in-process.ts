/**
 * Token route in process: each contender's handler called directly (`app.fetch`), one request at a time, in
 * alternating rounds. Runs on Node (`tsx`) and on Deno; prints one JSON object. Express has no in-process door,
 * so it is measured over loopback HTTP only.
 */
import { readFile } from 'node:fs/promises'
import process from 'node:process'
import { runStats, type RunStats } from '../stats.ts'
import { nodeCeiling, webCryptoCeiling, ceilingHandler } from './contenders/ceiling.ts'
import { oursHandler } from './contenders/ours.ts'
import { tokenRequestHandler } from './contenders/token-request.ts'
import { benchUserId, checkCredential, tokenRequest, type FetchHandler } from './fixtures.ts'

export interface InProcessOptions {
  tokensFile: string
  rounds: number
  warmupMs: number
  measureMs: number
}

export type InProcessResult = Record<string, RunStats[]>

const isDeno = 'Deno' in globalThis

/** Each contender on this runtime, by name. */
function contenders(): Record<string, FetchHandler> {
  return {
    ours: oursHandler(),
    tokenRequest: tokenRequestHandler(),
    ceiling: ceilingHandler(isDeno ? webCryptoCeiling() : nodeCeiling()),
  }
}

/** Calls `handler` back to back for `ms`, each with the next token, and reads every response. */
async function drive(handler: FetchHandler, tokens: readonly string[], start: number, ms: number): Promise<RunStats> {
  const latencies = new Float64Array(1 << 20)
  let count = 0
  let errors = 0
  const began = performance.now()
  const until = began + ms
  let now = began
  while (now < until && count < latencies.length) {
    const res = await handler(tokenRequest(tokens[(start + count) % tokens.length] as string))
    await res.text()
    if (res.status !== 200) errors++
    const after = performance.now()
    latencies[count++] = after - now
    now = after
  }
  return runStats(latencies, count, errors, now - began)
}

async function runInProcess({ tokensFile, rounds, warmupMs, measureMs }: InProcessOptions): Promise<InProcessResult> {
  const tokens = (await readFile(tokensFile, 'utf8')).split('\n')
  const handlers = Object.entries(contenders())
  for (const [name, handler] of handlers) {
    const res = await handler(tokenRequest(tokens[0] as string))
    await checkCredential(await res.json(), benchUserId(0)).catch((error: Error) => {
      throw new Error(`${name}: ${error.message}`)
    })
  }
  const result: InProcessResult = Object.fromEntries(handlers.map(([name]) => [name, []]))
  let offset = 0
  for (const [, handler] of handlers) await drive(handler, tokens, (offset += 7919), warmupMs)
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < handlers.length; i++) {
      const [name, handler] = handlers[(round + i) % handlers.length] as [string, FetchHandler]
      result[name]?.push(await drive(handler, tokens, (offset += 7919), measureMs))
    }
  }
  return result
}

console.log(JSON.stringify(await runInProcess(JSON.parse(process.argv[2] ?? '{}') as InProcessOptions)))
