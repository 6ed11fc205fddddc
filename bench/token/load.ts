/**
 * The load generator, in its own Node process so it never shares a heap with a server: keep-alive connections
 * (undici `Pool`), each request presenting the next app JWT of the pool. Driven over IPC by the runner
 * (`fork` with `tsx`): each `LoadRun` message is answered with its `RunStats`.
 */
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { Pool } from 'undici'
import { runStats, type RunStats } from '../stats.ts'
import { TOKEN_PATH } from './fixtures.ts'

export interface LoadRun {
  origin: string
  connections: number
  warmupMs: number
  measureMs: number
  /** Index of the first token presented; later requests take the following ones. */
  offset: number
  /** The server's process id, to read the CPU time it spent (Linux `/proc`). */
  serverPid?: number
}

/** What a run measured, with the server's CPU time per request when `/proc` could tell. */
export interface LoadStats extends RunStats {
  serverCpuUsPerRequest?: number
}

/** CPU time (user + system, all threads) a process has used, in µs, or `undefined` off Linux. */
function cpuTimeUs(pid: number): number | undefined {
  try {
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th of them, in clock ticks.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
    return (Number(fields[11]) + Number(fields[12])) * (1_000_000 / 100)
  } catch {
    return undefined
  }
}

async function drive(pool: Pool, tokens: readonly string[], { connections, measureMs, offset }: LoadRun): Promise<RunStats> {
  const latencies = new Float64Array(1 << 20)
  let count = 0
  let errors = 0
  let next = offset
  const began = performance.now()
  const until = began + measureMs
  const worker = async () => {
    while (performance.now() < until && count < latencies.length) {
      const authorization = `Bearer ${tokens[next++ % tokens.length]}`
      const sent = performance.now()
      const { statusCode, body } = await pool.request({ path: TOKEN_PATH, method: 'POST', headers: { authorization } })
      await body.text()
      latencies[count++] = performance.now() - sent
      if (statusCode !== 200) errors++
    }
  }
  await Promise.all(Array.from({ length: connections }, worker))
  return runStats(latencies, count, errors, performance.now() - began)
}

const tokens = (await readFile(process.argv[2] ?? '', 'utf8')).split('\n')
process.on('message', async (run: LoadRun) => {
  const pool = new Pool(run.origin, { connections: run.connections, pipelining: 1 })
  try {
    await drive(pool, tokens, { ...run, measureMs: run.warmupMs })
    const cpuBefore = run.serverPid === undefined ? undefined : cpuTimeUs(run.serverPid)
    const stats: LoadStats = await drive(pool, tokens, { ...run, offset: run.offset + 50_000 })
    const cpuAfter = run.serverPid === undefined ? undefined : cpuTimeUs(run.serverPid)
    if (cpuBefore !== undefined && cpuAfter !== undefined) stats.serverCpuUsPerRequest = (cpuAfter - cpuBefore) / stats.requests
    process.send?.(stats)
  } catch (error) {
    process.send?.({ error: String(error) })
  } finally {
    await pool.close()
  }
})
process.send?.({ ready: true })
