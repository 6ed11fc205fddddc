/**
 * What a person at a terminal sees (issue 11, friction): `npm run dev:token` with bad arguments, which secret it
 * signs with, and a second `npm start` while one runs. One clear line each, never a stack trace.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { useLocalStack } from '../support/local-stack.ts'
import { loadDevSecrets, readRunningStacks, removeRunningStack, secretId, writeRunningStack } from '../../src/local/dev-secrets.ts'

const ROOT = resolve(import.meta.dirname, '../..')
const TSX = join(ROOT, 'node_modules/.bin/tsx')
const OWN_SECRET = 'set-by-the-user-0123456789-abcdefghijklmnopq'
let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

/** Runs one of the repo's entry files with tsx, in a temp dir (so `.local/` is the test's own). */
function run(file: string, args: string[] = [], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const { JWT_SECRET: _ignored, PORT: _port, ABLY_HUB_PORT: _hub, ...base } = process.env
  return new Promise((done) => {
    execFile(TSX, [join(ROOT, file), ...args], { cwd: dir, env: { ...base, ...env }, timeout: 20_000 }, (error, stdout, stderr) =>
      done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    )
  })
}

function expectOneClearLine({ code, stdout, stderr }: { code: number; stdout: string; stderr: string }, exitCode: number, mentions: RegExp) {
  expect(code).toBe(exitCode)
  // Nothing on stdout but the JSON log lines of what had started (e.g. the hub, before the API port was refused).
  for (const line of stdout.split('\n').filter(Boolean)) expect(() => JSON.parse(line), line).not.toThrow()
  expect(stderr.trim().split('\n')).toHaveLength(1)
  expect(stderr).toMatch(mentions)
  expect(stderr).not.toMatch(/\n\s+at |Error:/)
}

describe('npm run dev:token', () => {
  it('--help prints the usage, and exits 0', async () => {
    const { code, stdout } = await run('scripts/dev-token.ts', ['--help'])
    expect(code).toBe(0)
    expect(stdout).toMatch(/^Usage: npm run -s dev:token -- \[--user <id>\]/)
  })

  it.each([
    ['an unknown flag', ['--usr', 'bob'], /Unknown option '--usr'/],
    ['a missing value', ['--user'], /'--user <value>' argument missing/],
    ['a negative TTL', ['--ttl', '-5'], /--ttl/],
    ['a negative TTL with =', ['--ttl=-5'], /--ttl must be a whole number of seconds from 1 to 86400, got "-5"/],
    ['a zero TTL', ['--ttl', '0'], /--ttl must be/],
    ['a bad user id', ['--user', 'a:b'], /--user must be/],
    ['a stray argument', ['bob'], /Unexpected argument 'bob'/],
  ])('%s: one clear line on stderr, exit 2', async (_name, args, mentions) => {
    expectOneClearLine(await run('scripts/dev-token.ts', args), 2, mentions)
  })

  it('prints only the token on stdout and says on stderr which secret it used', async () => {
    const generated = await run('scripts/dev-token.ts', ['--user', 'bob'])
    expect(generated.code).toBe(0)
    expect(generated.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/)
    expect(generated.stderr).toMatch(/signed with the generated development secret in \.local\/dev-secrets\.json/)
    const own = await run('scripts/dev-token.ts', [], { JWT_SECRET: OWN_SECRET })
    expect(own.stderr).toMatch(/signed with JWT_SECRET from the environment/)
  })

  it('refuses to sign with a secret the running npm start would refuse, naming which', async () => {
    // A stack started with the user's own secret (this process stands in for it, so the record is live).
    await writeRunningStack(
      { pid: process.pid, url: 'http://localhost:18888', secrets: 'environment', jwtSecretId: secretId(OWN_SECRET) },
      join(dir, '.local/running-stacks'),
    )
    expectOneClearLine(
      await run('scripts/dev-token.ts'),
      2,
      /npm start at http:\/\/localhost:18888 uses its own JWT_SECRET .* Run this with the same JWT_SECRET/,
    )
    const same = await run('scripts/dev-token.ts', [], { JWT_SECRET: OWN_SECRET })
    expect(same.code).toBe(0)
    expect(same.stderr).toMatch(/which npm start at http:\/\/localhost:18888 accepts/)

    const { jwtSecret } = await loadDevSecrets(join(dir, '.local/dev-secrets.json'))
    await writeRunningStack(
      { pid: process.pid, url: 'http://localhost:18888', secrets: 'generated', jwtSecretId: secretId(jwtSecret) },
      join(dir, '.local/running-stacks'),
    )
    expectOneClearLine(await run('scripts/dev-token.ts', [], { JWT_SECRET: OWN_SECRET }), 2, /uses the generated secret/)
    expect((await run('scripts/dev-token.ts')).code).toBe(0)
    await rm(join(dir, '.local/running-stacks'), { recursive: true })
  })

  it('with two stacks running, signs for the one --url or PORT names, and each record is its own', async () => {
    const stacks = join(dir, '.local/running-stacks')
    const { jwtSecret } = await loadDevSecrets(join(dir, '.local/dev-secrets.json'))
    await writeRunningStack({ pid: process.pid, url: 'http://localhost:18888', secrets: 'generated', jwtSecretId: secretId(jwtSecret) }, stacks)
    await writeRunningStack({ pid: process.pid, url: 'http://localhost:18898', secrets: 'environment', jwtSecretId: secretId(OWN_SECRET) }, stacks)
    expect((await readRunningStacks(stacks)).map((stack) => stack.url)).toEqual(['http://localhost:18888', 'http://localhost:18898'])

    expectOneClearLine(
      await run('scripts/dev-token.ts'),
      2,
      /npm start runs at http:\/\/localhost:18888 and http:\/\/localhost:18898, and http:\/\/localhost:18898 would refuse .* --url <url>/,
    )
    const generated = await run('scripts/dev-token.ts', ['--url', 'http://localhost:18888'])
    expect([generated.code, generated.stderr]).toEqual([0, expect.stringMatching(/which npm start at http:\/\/localhost:18888 accepts/)])
    const own = await run('scripts/dev-token.ts', [], { JWT_SECRET: OWN_SECRET, PORT: '18898' })
    expect([own.code, own.stderr]).toEqual([0, expect.stringMatching(/which npm start at http:\/\/localhost:18898 accepts/)])
    expectOneClearLine(
      await run('scripts/dev-token.ts', ['--url', 'http://localhost:18898']),
      2,
      /npm start at http:\/\/localhost:18898 uses its own JWT_SECRET/,
    )
    expectOneClearLine(await run('scripts/dev-token.ts', ['--url', 'nope']), 2, /--url must be a URL/)

    // One stack stopping removes its own record only.
    await removeRunningStack('http://localhost:18898', process.pid, stacks)
    expect((await readRunningStacks(stacks)).map((stack) => stack.url)).toEqual(['http://localhost:18888'])
    await rm(stacks, { recursive: true })
  })
})

describe('a second npm start', () => {
  let taken: Server
  let port = 0
  beforeAll(async () => {
    taken = createServer()
    await new Promise<void>((listening) => taken.listen(0, '127.0.0.1', listening))
    port = (taken.address() as { port: number }).port
  })
  afterAll(() => new Promise<void>((closed) => taken.close(() => closed())))

  it('says which port is taken and which variable moves it', async () => {
    expectOneClearLine(
      await run('hosts/node-server.ts', [], { PORT: String(port), ABLY_HUB_PORT: '0' }),
      1,
      new RegExp(`Port ${port} \\(the API and demo\\) is already in use.*set PORT to another port`),
    )
    expectOneClearLine(
      await run('hosts/node-server.ts', [], { PORT: '0', ABLY_HUB_PORT: String(port) }),
      1,
      new RegExp(`Port ${port} \\(the local Ably hub\\) is already in use.*set ABLY_HUB_PORT`),
    )
  })

  it('names both taken ports in one line, so one retry suffices', async () => {
    const other = createServer()
    await new Promise<void>((listening) => other.listen(0, '127.0.0.1', listening))
    const otherPort = (other.address() as { port: number }).port
    try {
      expectOneClearLine(
        await run('hosts/node-server.ts', [], { PORT: String(port), ABLY_HUB_PORT: String(otherPort) }),
        1,
        new RegExp(
          `Ports ${otherPort} \\(the local Ably hub\\) and ${port} \\(the API and demo\\) are already in use.*set ABLY_HUB_PORT and PORT to another port, e\\.g\\. ABLY_HUB_PORT=${otherPort + 10} PORT=${port + 10} npm start`,
        ),
      )
    } finally {
      await new Promise<void>((closed) => other.close(() => closed()))
    }
  })

  it.each([
    ['PORT', { PORT: 'abc' }, /PORT must be a port number from 0 \(a free one\) to 65535, got "abc"/],
    ['ABLY_HUB_PORT', { ABLY_HUB_PORT: '70000' }, /ABLY_HUB_PORT must be a port number from 0 \(a free one\) to 65535, got "70000"/],
    [
      'the same port for both',
      { PORT: '18890', ABLY_HUB_PORT: '18890' },
      /ABLY_HUB_PORT is 18890, the port of the API and demo \(PORT\) too: each needs its own port/,
    ],
  ])('checks %s with the rest of the config, before any port is taken', async (_name, env, mentions) => {
    const { code, stdout, stderr } = await run('hosts/node-server.ts', [], { ...env, JWT_SECRET: 'weak' })
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toMatch(/^Invalid configuration:\n {2}- JWT_SECRET/)
    expect(stderr).toMatch(mentions)
    expect(stderr).not.toMatch(/RangeError|TypeError|\n\s+at /)
  })

  it('the hub alone says which port is taken and which variable moves it', async () => {
    const key = { ABLY_API_KEY: 'app.key:0123456789abcdef0123' }
    expectOneClearLine(
      await run('src/wiring/hub-cli.ts', [], { ...key, ABLY_HUB_PORT: String(port) }),
      1,
      new RegExp(
        `Port ${port} \\(the local Ably hub\\) is already in use, perhaps by \`npm start\` or another hub.*ABLY_HUB_PORT=${port + 10} npx tsx src/wiring/hub-cli.ts`,
      ),
    )
    const bad = await run('src/wiring/hub-cli.ts', [], { ...key, ABLY_HUB_PORT: 'abc' })
    expect([bad.code, bad.stdout]).toEqual([1, ''])
    expect(bad.stderr).toMatch(/ABLY_HUB_PORT must be a port number/)
  })

  it('reports a bad config first, before any port', async () => {
    const { code, stdout, stderr } = await run('hosts/node-server.ts', [], { PORT: String(port), ABLY_HUB_PORT: String(port), JWT_SECRET: 'weak' })
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toMatch(/^Invalid configuration:\n {2}- JWT_SECRET/)
    expect(stderr).not.toMatch(/EADDRINUSE|\n\s+at /)
  })
})

describe('the fuzz and fault-run scripts', () => {
  let notAStack: HttpServer
  let stackUrl = ''
  let closedUrl = ''
  beforeAll(async () => {
    // Something on loopback that is not npm start with its dev routes: every path is 404.
    notAStack = createHttpServer((_request, response) => response.writeHead(404, { 'Content-Type': 'application/json' }).end('{"code":"not_found"}'))
    await new Promise<void>((listening) => notAStack.listen(0, '127.0.0.1', listening))
    stackUrl = `http://localhost:${(notAStack.address() as { port: number }).port}`
    const closed = createServer()
    await new Promise<void>((listening) => closed.listen(0, '127.0.0.1', listening))
    closedUrl = `http://localhost:${(closed.address() as { port: number }).port}`
    await new Promise<void>((done) => closed.close(() => done()))
  })
  afterAll(() => new Promise<void>((closed) => notAStack.close(() => closed())))

  it.each(['scripts/fuzz.ts', 'scripts/fault-run.ts'])(
    '%s: --help, bad arguments, a target off loopback, unreachable or without dev routes',
    async (script) => {
      const name = script === 'scripts/fuzz.ts' ? 'fuzz' : 'fault-run'
      const help = await run(script, ['--help'])
      expect([help.code, help.stderr]).toEqual([0, ''])
      expect(help.stdout).toMatch(new RegExp(`^Usage: npx tsx ${script} \\[--url http://localhost:8888\\]`))
      expectOneClearLine(await run(script, ['--nope']), 2, new RegExp(`^${name}: Unknown option '--nope'. Usage:`))
      expectOneClearLine(await run(script, ['--url', 'http://example.com']), 2, /--url must be on loopback .*got example\.com/)
      expectOneClearLine(await run(script, ['--url', 'not a url']), 2, /--url must be a URL/)
      expectOneClearLine(
        await run(script, ['--url', closedUrl]),
        1,
        new RegExp(`^${name}: cannot reach ${closedUrl} \\(ECONNREFUSED\\): is npm start running there\\?`),
      )
      expectOneClearLine(await run(script, ['--url', stackUrl]), 1, /no dev (login|routes)/)
    },
  )
})

describe('the fuzz against a running stack', () => {
  const fixture = useLocalStack()

  it('reports no gateway finding where the defects are fixed (the history probe reads past the limit)', async () => {
    const { code, stdout } = await run('scripts/fuzz.ts', ['--url', fixture.stack.url, '--requests', '40', '--concurrency', '4', '--seconds', '30'])
    const report = JSON.parse(stdout) as { requests: number; fiveHundreds: number; gatewayFindings: string[] }
    expect(report.gatewayFindings).toEqual([])
    expect([code, report.requests, report.fiveHundreds]).toEqual([0, 40, 0])
  }, 60_000)
})
