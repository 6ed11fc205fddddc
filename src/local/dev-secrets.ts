/** Development secrets for `npm start`: generated once, kept in a git-ignored file so tokens survive restarts. */
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'

export interface DevSecrets {
  /** HS256 secret for app JWTs. */
  jwtSecret: string
  /** An Ably-style key (`appId.keyId:secret`) that only the local hub knows. */
  ablyKey: string
}

export const DEFAULT_DEV_SECRETS_FILE = '.local/dev-secrets.json'

/** Reads the dev secrets from `file`, creating them (mode 0600) on first use. */
export async function loadDevSecrets(file = DEFAULT_DEV_SECRETS_FILE): Promise<DevSecrets & { created: boolean }> {
  try {
    const stored = JSON.parse(await readFile(file, 'utf8')) as Partial<DevSecrets>
    if (typeof stored.jwtSecret === 'string' && typeof stored.ablyKey === 'string')
      return { jwtSecret: stored.jwtSecret, ablyKey: stored.ablyKey, created: false }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && !(error instanceof SyntaxError)) throw error
  }
  const secrets: DevSecrets = {
    jwtSecret: randomBytes(48).toString('base64url'),
    ablyKey: `dev.local:${randomBytes(24).toString('base64url')}`,
  }
  await mkdir(dirname(file), { recursive: true })
  await writeFile(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 })
  return { ...secrets, created: true }
}

/**
 * A short, one-way label for a JWT secret (the first 16 hex digits of its SHA-256): enough to tell whether two
 * processes sign with the same secret, never enough to recover it (the config refuses secrets under 32 characters).
 */
export function secretId(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 16)
}

/** What a running `npm start` leaves in `.local/`, so `npm run dev:token` signs with the secret that stack accepts. */
export interface RunningStack {
  pid: number
  url: string
  /** Where its JWT secret came from. */
  secrets: 'generated' | 'environment'
  jwtSecretId: string
}

/** One record per running stack, named by its API port, so two stacks never overwrite or remove each other's. */
const DEFAULT_RUNNING_STACKS_DIR = '.local/running-stacks'

const recordFile = (url: string, dir: string) => join(dir, `${new URL(url).port || '80'}.json`)

export async function writeRunningStack(stack: RunningStack, dir = DEFAULT_RUNNING_STACKS_DIR): Promise<void> {
  await mkdir(dir, { recursive: true })
  await writeFile(recordFile(stack.url, dir), `${JSON.stringify(stack, null, 2)}\n`, { mode: 0o600 })
}

/** Removes this stack's record, if it is this process's (a second start that failed must not remove the first one's). */
export async function removeRunningStack(url: string, pid = process.pid, dir = DEFAULT_RUNNING_STACKS_DIR): Promise<void> {
  const file = recordFile(url, dir)
  if ((await readRecord(file))?.pid === pid) await rm(file, { force: true })
}

/** The running stacks' records, by port; a record whose process has gone is left out. */
export async function readRunningStacks(dir = DEFAULT_RUNNING_STACKS_DIR): Promise<RunningStack[]> {
  const names = await readdir(dir).catch(() => [] as string[])
  const records = await Promise.all(names.filter((name) => /^\d+\.json$/.test(name)).map((name) => readRecord(join(dir, name))))
  return records.filter((stack) => stack !== undefined).sort((a, b) => Number(new URL(a.url).port) - Number(new URL(b.url).port))
}

async function readRecord(file: string): Promise<RunningStack | undefined> {
  let stack: RunningStack
  try {
    stack = JSON.parse(await readFile(file, 'utf8')) as RunningStack
  } catch {
    return undefined
  }
  try {
    process.kill(stack.pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return undefined
  }
  return stack
}
