/**
 * Token route over loopback HTTP: every contender in its own server process, one load generator process with
 * keep-alive connections, contenders alternated in rounds (each round starts with the next one) after a warm-up.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { firstJsonLine, start, stop, type Runtime } from '../children.ts'
import { benchUserId, checkCredential, TOKEN_PATH } from './fixtures.ts'
import type { LoadRun, LoadStats } from './load.ts'

export interface HttpOptions {
  runtime: Runtime
  contenders: readonly string[]
  tokensFile: string
  tokenCount: number
  rounds: number
  connections: number
  warmupMs: number
  measureMs: number
}

/** Each contender's runs, one per round, in round order. */
export type HttpResult = Record<string, LoadStats[]>

export async function measureTokenHttp({
  runtime,
  contenders,
  tokensFile,
  tokenCount,
  rounds,
  connections,
  warmupMs,
  measureMs,
}: HttpOptions): Promise<HttpResult> {
  const servers = contenders.map((name) => ({ name, child: start(runtime, 'bench/token/serve.ts', [name]) }))
  const load = fork('bench/token/load.ts', [tokensFile], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  try {
    const ports = await Promise.all(servers.map(async ({ child }) => (await firstJsonLine<{ port: number }>(child)).port))
    await nextMessage(load)
    const [firstToken = ''] = (await readFile(tokensFile, 'utf8')).split('\n', 1)
    for (const [index, { name }] of servers.entries()) {
      const res = await fetch(`http://127.0.0.1:${ports[index]}${TOKEN_PATH}`, { method: 'POST', headers: { authorization: `Bearer ${firstToken}` } })
      await checkCredential(await res.json(), benchUserId(0)).catch((error: Error) => {
        throw new Error(`${runtime} ${name}: ${error.message}`)
      })
    }
    const result: HttpResult = Object.fromEntries(contenders.map((name) => [name, []]))
    let offset = 0
    const run = async (index: number, measure: number) => {
      const server = servers[index] as (typeof servers)[number]
      offset = (offset + 9973) % tokenCount
      const message: LoadRun = {
        origin: `http://127.0.0.1:${ports[index]}`,
        connections,
        warmupMs,
        measureMs: measure,
        offset,
        ...(server.child.pid !== undefined && { serverPid: server.child.pid }),
      }
      load.send(message)
      const stats = await nextMessage<LoadStats | { error: string }>(load)
      if ('error' in stats) throw new Error(`${runtime} ${server.name}: ${stats.error}`)
      return stats
    }
    // A first pass that only warms each server's JIT.
    for (let index = 0; index < servers.length; index++) await run(index, warmupMs)
    for (let round = 0; round < rounds; round++) {
      for (let step = 0; step < servers.length; step++) {
        const index = (round + step) % servers.length
        result[servers[index]?.name as string]?.push(await run(index, measureMs))
      }
    }
    return result
  } finally {
    load.kill()
    await Promise.all(servers.map(({ child }) => stop(child)))
  }
}

function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`load generator exited (${code})`))
    child.once('exit', onExit)
    child.once('message', (message) => {
      child.off('exit', onExit)
      resolve(message as T)
    })
  })
}
