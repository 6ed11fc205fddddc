/** A throwaway `npm start` per test file: ephemeral loopback ports, dev secrets in a temp dir, no log output. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { silentLogger } from '../../src/log/index.ts'
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../src/wiring/local-stack.ts'

export interface LocalStackFixture {
  /** The file's stack, started before its tests and closed after them. */
  readonly stack: LocalStack
  /** Starts another stack with the same defaults and secrets file (so tokens carry over); the caller closes it. */
  startAnother(options?: Partial<LocalStackOptions>): Promise<LocalStack>
  /** A path in the file's temp dir. */
  path(name: string): string
}

export function useLocalStack(options: Partial<LocalStackOptions> = {}, { enabled = true }: { enabled?: boolean } = {}): LocalStackFixture {
  let dir = ''
  let stack: LocalStack | undefined
  const path = (name: string) => join(dir, name)
  const start = (more: Partial<LocalStackOptions> = {}) =>
    startLocalStack({ env: {}, port: 0, hubPort: 0, secretsFile: path('secrets.json'), log: silentLogger, ...options, ...more })

  beforeAll(async () => {
    if (!enabled) return
    dir = await mkdtemp(join(tmpdir(), 'stack-'))
    stack = await start()
  })
  afterAll(async () => {
    await stack?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })
  return {
    get stack() {
      if (!stack) throw new Error('useLocalStack: the stack starts in beforeAll')
      return stack
    },
    startAnother: start,
    path,
  }
}
