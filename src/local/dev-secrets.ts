/** Development secrets for `npm start`: generated once, kept in a git-ignored file so tokens survive restarts. */
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'

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
    if (typeof stored.jwtSecret === 'string' && typeof stored.ablyKey === 'string') return { jwtSecret: stored.jwtSecret, ablyKey: stored.ablyKey, created: false }
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
