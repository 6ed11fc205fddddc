/** Child processes for the benches: TypeScript on Node (through tsx) and on Deno, spoken to by JSON lines. */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createInterface } from 'node:readline'

const require = createRequire(import.meta.url)

/** The Deno binary the `deno` devDependency installed (run directly: `npx deno` would add a Node start-up). */
export function denoExecutable(): string {
  const installed = require.resolve('deno/deno')
  if (existsSync(installed)) return installed
  const { runInstall } = require('deno/install_api.cjs') as { runInstall(): string }
  return runInstall()
}

/** The flags every Deno child gets: offline, the repo's deno.json (node_modules resolution), loopback only. */
export const DENO_RUN = ['run', '--quiet', '--cached-only', '--allow-read', '--allow-env', '--allow-sys', '--allow-net=127.0.0.1']

export type Runtime = 'node' | 'deno'

/** Starts `file` (a `.ts` path from the repository root) on `runtime`, with stdout piped and stderr inherited. */
export function start(runtime: Runtime, file: string, args: readonly string[] = []): ChildProcess {
  const [command, prefix] = runtime === 'node' ? [process.execPath, ['--import', 'tsx', file]] : [denoExecutable(), [...DENO_RUN, file]]
  return spawn(command, [...prefix, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, DENO_NO_UPDATE_CHECK: '1' } })
}

/** The first stdout line of `child` that parses as JSON; rejects if the child exits first or after `timeoutMs`. */
export function firstJsonLine<T>(child: ChildProcess, timeoutMs = 60_000): Promise<T> {
  return new Promise((resolve, reject) => {
    if (!child.stdout) return reject(new Error('child has no stdout'))
    const lines = createInterface({ input: child.stdout })
    const timer = setTimeout(() => finish(new Error(`no JSON line from pid ${child.pid} within ${timeoutMs} ms`)), timeoutMs)
    const onExit = (code: number | null) => finish(new Error(`pid ${child.pid} exited (${code}) before printing JSON`))
    function finish(error: Error | undefined, value?: T) {
      clearTimeout(timer)
      child.off('exit', onExit)
      lines.close()
      if (error) reject(error)
      else resolve(value as T)
    }
    lines.on('line', (line) => {
      if (!line.startsWith('{')) return
      try {
        finish(undefined, JSON.parse(line) as T)
      } catch {
        // not JSON after all: keep reading
      }
    })
    child.once('exit', onExit)
  })
}

/** Runs `file` to completion and returns its last JSON line. */
export async function runToJson<T>(runtime: Runtime, file: string, args: readonly string[] = [], timeoutMs = 120_000): Promise<T> {
  const child = start(runtime, file, args)
  let last: T | undefined
  const lines = createInterface({ input: child.stdout as NonNullable<ChildProcess['stdout']> })
  lines.on('line', (line) => {
    if (line.startsWith('{')) last = JSON.parse(line) as T
  })
  const timer = setTimeout(() => child.kill(), timeoutMs)
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
  clearTimeout(timer)
  if (code !== 0 || last === undefined) throw new Error(`${runtime} ${file} exited with ${code}`)
  return last
}

/** Stops a child this process started, and waits for it to go. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill()
  await gone
}
