import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { banner } from '../../src/local/banner.ts'
import { useLocalStack } from '../support/local-stack.ts'

// `npm start` as one process: API, gateway and hub on ephemeral loopback ports, dev secrets in a temp dir.
const local = useLocalStack()

describe('the local stack', () => {
  it('generates dev secrets and runs the hub when nothing is configured', () => {
    expect(local.stack.sources).toEqual({ ably: 'local hub', store: 'in-memory', secrets: 'generated' })
    expect(local.stack.hubPort).toBeGreaterThan(0)
  })

  it('prints the URLs, a working sample token and curl lines', async () => {
    const text = await banner(local.stack)
    const token = /export TOKEN=(\S+)/.exec(text)?.[1] ?? ''
    expect(text).toContain(`${local.stack.url}/api/ably/token`)
    expect(text).toContain(`port: ${local.stack.hubPort}, tls: false`)
    // The policy's channels and the Ably namespaces to configure; no revoke route while revocation is off.
    expect(text).toContain(
      '  Channels sms:{userId}:{contactId}  contacts:{userId}  notifications:{userId}  (Ably namespaces to configure: sms, contacts, notifications)',
    )
    expect(text).not.toContain('/api/ably/revoke')
    const res = await fetch(`${local.stack.url}/api/ably/token`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } })
    expect(res.status).toBe(200)
    // The exact line that points the server helpers at this hub, with the key read from the file, never printed.
    const hub = local.stack.hubPort
    expect(text).toContain(
      `  export ABLY_REST_URL=http://localhost:${hub} ABLY_HUB_PORT=${hub} ABLY_API_KEY=$(node -p "require('./.local/dev-secrets.json').ablyKey")\n`,
    )
    expect(text).not.toContain(local.stack.config.ably.key.secret)
  })

  it('a plain Node script with the public ably package connects with our token and receives what a server publishes', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['examples/subscribe.mjs'], {
      env: {
        ...process.env,
        API_URL: local.stack.url,
        APP_TOKEN: await local.stack.mintAppToken('alice'),
        ABLY_API_KEY: `${local.stack.config.ably.key.name}:${local.stack.config.ably.key.secret}`,
        ABLY_HUB_PORT: String(local.stack.hubPort),
      },
      timeout: 20_000,
    })
    expect(JSON.parse(stdout)).toEqual({ clientId: 'alice', channel: 'sms:alice:c1', name: 'message', data: { text: 'hello from the server' } })
  })

  it('stats are healthy while the hub runs and unhealthy once it stops; health is degraded meanwhile (publishes queue)', async () => {
    const check = (path: string) =>
      fetch(`${local.stack.url}/api/ably/${path}`).then(async (res) => [res.status, ((await res.json()) as { status: string }).status])
    expect(await check('stats')).toEqual([200, 'healthy'])
    expect(await check('health')).toEqual([200, 'healthy'])
    await local.stack.hub!.close()
    try {
      expect(await check('stats')).toEqual([503, 'unhealthy'])
      expect(await check('health')).toEqual([200, 'degraded'])
    } finally {
      await local.stack.hub!.listen()
    }
    expect(await check('stats')).toEqual([200, 'healthy'])
  })

  it('serves the demo page with its own CSP and the API under /api', async () => {
    const page = await fetch(`${local.stack.url}/`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toContain('text/html')
    expect(page.headers.get('x-content-type-options')).toBe('nosniff')
    const api = await fetch(`${local.stack.url}/api/ably/nope`)
    expect(api.status).toBe(404)
    expect(((await api.json()) as { code: string }).code).toBe('not_found')
  })

  it('serves the OpenAPI document of its API, with itself as the server', async () => {
    const res = await fetch(`${local.stack.url}/api/ably/openapi.json`)
    expect(res.status).toBe(200)
    const document = (await res.json()) as { openapi: string; servers: { url: string }[]; paths: Record<string, unknown> }
    expect(document.openapi).toBe('3.1.0')
    expect(document.servers).toEqual([{ url: local.stack.url }])
    expect(Object.keys(document.paths)).toContain('/api/ably/publish')
  })

  it('reuses the generated secrets on the next start, so tokens survive a restart', async () => {
    const token = await local.stack.mintAppToken('bob')
    const again = await local.startAnother()
    try {
      const res = await fetch(`${again.url}/api/ably/token`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } })
      expect(res.status).toBe(200)
    } finally {
      await again.close()
    }
  })

  it('uses values that are set, and real Ably when ABLY_API_KEY is set', async () => {
    const jwtSecret = 'set-by-the-user-0123456789-abcdefghijklmnopq'
    const real = await local.startAnother({
      env: { JWT_SECRET: jwtSecret, ABLY_API_KEY: 'app.key:0123456789abcdefghijklmn', ABLY_REST_URL: 'http://127.0.0.1:9' },
      secretsFile: local.path('unused.json'),
    })
    try {
      expect(real.hub).toBeUndefined()
      expect(real.sources).toEqual({ ably: 'Ably', store: 'in-memory', secrets: 'environment' })
      expect(real.config.jwt.secret).toBe(jwtSecret)
      // A token signed with the user's own secret would be a real credential in a terminal or log: none is printed.
      const text = await banner(real)
      expect(text).not.toMatch(/eyJ[\w-]+\./)
      expect(text).toContain('npm run -s dev:token -- --user alice')
      expect(text).not.toContain('ABLY_REST_URL')
    } finally {
      await real.close()
    }
  })

  it('fails fast at start, naming every bad variable of the API and the gateway in one message', async () => {
    const start = local.startAnother({ env: { JWT_SECRET: 'short', MESSAGE_STORE: 'postgres', PUBLISH_MAX_BATCH: '9999' } })
    await expect(start).rejects.toMatchObject({ name: 'ConfigError', variables: ['JWT_SECRET', 'MESSAGE_STORE', 'PUBLISH_MAX_BATCH'] })
  })

  it('`npm start` with JWT_SECRET=short MESSAGE_STORE=postgres PUBLISH_MAX_BATCH=9999 prints all three and exits 1, before opening a port', async () => {
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', 'hosts/node-server.ts'], {
      env: { ...process.env, JWT_SECRET: 'short', MESSAGE_STORE: 'postgres', PUBLISH_MAX_BATCH: '9999', PORT: '0', ABLY_HUB_PORT: '0', ABLY_API_KEY: '' },
      timeout: 30_000,
    })
    const failure = await run.then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    )
    expect(failure?.code).toBe(1)
    // It stops before opening any port: the hub never started.
    expect((failure as { stdout?: string } | undefined)?.stdout ?? '').not.toContain('hub.listening')
    const lines = failure?.stderr.trim().split('\n') ?? []
    expect(lines[0]).toBe('Invalid configuration:')
    expect(lines.slice(1).map((line) => /^ {2}- (\w+) /.exec(line)?.[1])).toEqual(['JWT_SECRET', 'MESSAGE_STORE', 'PUBLISH_MAX_BATCH'])
  })
})
