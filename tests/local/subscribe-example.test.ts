/** `examples/subscribe.mjs` fails with one clear line (issue 11, friction); its success is in stack.test.ts. */
import { execFile } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { mintAppToken } from '../../src/local/mint-app-token.ts'
import { useLocalStack } from '../support/local-stack.ts'

const local = useLocalStack()

function subscribe(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const { APP_TOKEN: _token, ABLY_API_KEY: _key, ...base } = process.env
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['examples/subscribe.mjs'],
      { env: { ...base, API_URL: local.stack.url, ABLY_HUB_PORT: String(local.stack.hubPort), ...env }, timeout: 20_000 },
      (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    )
  })
}

const key = () => `${local.stack.config.ably.key.name}:${local.stack.config.ably.key.secret}`

describe('examples/subscribe.mjs', () => {
  it.each([
    ['without APP_TOKEN', () => ({ ABLY_API_KEY: key() }), 2, /^subscribe: APP_TOKEN is not set/],
    ['without ABLY_API_KEY', async () => ({ APP_TOKEN: await local.stack.mintAppToken('alice') }), 2, /^subscribe: ABLY_API_KEY is not set/],
    [
      'with an app JWT the API refuses',
      async () => ({ APP_TOKEN: await mintAppToken('not-the-stack-secret-0123456789-abcdefghijkl', { userId: 'alice' }), ABLY_API_KEY: key() }),
      1,
      /^subscribe: the token endpoint answered 403 signed_out: APP_TOKEN is invalid or expired/,
    ],
  ] as const)('%s: one line on stderr and a non-zero exit, no retry loop', async (_name, env, code, line) => {
    const started = performance.now()
    const result = await subscribe(await env())
    expect(result.code).toBe(code)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(line)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(performance.now() - started).toBeLessThan(10_000)
  })
})
