/**
 * The package as a site meets it (`npm run test:package`, its own CI step): `npm pack`, the tarball installed into a
 * scratch Netlify site outside the repository (tests/package/site: three-line entry files, its own browser and server
 * code), type-checked strictly under `bundler` and `node16`, its browser code bundled with esbuild and run in Chromium
 * against the package's own local stack, and the site through the offline Netlify deploy check.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, posix } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasChromium, launchChromium, serveAppOrigin } from '../support/chromium.ts'

const run = promisify(execFile)
const repo = join(import.meta.dirname, '../..')
const HUB_ONLY = ['ws', '@msgpack/msgpack', '@jmespath-community/jmespath', '@hono/node-server']

let scratch = ''
let site = ''
let tarball = ''

/**
 * The files of an installed package a consumer can reach: `exports` and `bin`, then every relative import of those
 * (JavaScript and declarations), every asset read through `new URL('file', import.meta.url)`, and each file's source map.
 */
async function reachableFiles(dir: string): Promise<Set<string>> {
  const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { exports: Record<string, string | object>; bin: Record<string, string> }
  const queue = [
    ...Object.values(manifest.exports).flatMap((target) => (typeof target === 'string' ? [target] : Object.values(target))),
    ...Object.values(manifest.bin),
  ]
  const reached = new Set<string>()
  while (queue.length > 0) {
    const file = posix.normalize(queue.pop() as string)
    if (reached.has(file)) continue
    reached.add(file)
    if (!/\.(js|d\.ts)$/.test(file)) continue
    const base = posix.dirname(file)
    // Without comment lines (a doc comment's example is no import): statements, and `import('./…')` calls and types.
    const text = (await readFile(join(dir, file), 'utf8'))
      .split('\n')
      .filter((line) => !/^\s*(?:\/\/|\/\*|\*)/.test(line))
      .join('\n')
    const statements = text.matchAll(/^\s*(?:import|export)\b[^;]*?['"](\.{1,2}\/[^'"]+)['"]/gm)
    const inline = text.matchAll(/\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)
    for (const [, specifier] of [...statements, ...inline]) queue.push(posix.join(base, specifier as string))
    for (const [, asset] of text.matchAll(/new URL\('([^'/]+\.[a-z]+)', (?:DIR|import\.meta\.url)\)/g)) queue.push(posix.join(base, asset as string))
    // A module's declarations and source map, where it has them (a bin or a bundled page script may not).
    const beside = file.endsWith('.js') ? [`${file}.map`, file.replace(/\.js$/, '.d.ts')] : []
    for (const path of beside) if (existsSync(join(dir, path))) queue.push(path)
  }
  return reached
}

/** The version this repository installed, so the site's install is served from npm's cache. */
async function installed(name: string): Promise<string> {
  return (JSON.parse(await readFile(join(repo, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'consumer-'))
  // `npm pack` runs `prepack`, the package build.
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', scratch], { cwd: repo, maxBuffer: 1 << 24 })
  tarball = join(scratch, (JSON.parse(stdout) as { filename: string }[])[0]?.filename ?? '')
  site = join(scratch, 'site')
  await cp(join(import.meta.dirname, 'site'), site, { recursive: true })
  const manifest = {
    name: 'consumer-site',
    private: true,
    type: 'module',
    dependencies: { 'ably-netlify-integration': `file:${tarball}`, ably: await installed('ably') },
    // The hub's modules, for local development only (the package declares them as optional peers).
    devDependencies: Object.fromEntries(await Promise.all([...HUB_ONLY, '@types/node'].map(async (name) => [name, await installed(name)]))),
  }
  await writeFile(join(site, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: site, maxBuffer: 1 << 24 })
}, 240_000)

afterAll(async () => {
  if (scratch && !process.env.KEEP_CONSUMER) await rm(scratch, { recursive: true, force: true })
})

describe('the packed package in a site of its own', () => {
  it('ships dist with no .ts module, and a production install holds neither the hub’s modules nor a second ably', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball])
    const files = stdout.trim().split('\n')
    expect(files.filter((file) => !file.startsWith('package/dist/') && !['package/package.json', 'package/README.md'].includes(file))).toEqual([])
    expect(files.filter((file) => /\.ts$/.test(file) && !file.endsWith('.d.ts'))).toEqual([])
    // Only what a consumer can reach (the repository's own hosts import src/, not the package), and all of it there.
    const packed = files.map((file) => file.slice('package/'.length))
    const reached = await reachableFiles(join(site, 'node_modules/ably-netlify-integration'))
    expect(packed.filter((file) => file.startsWith('dist/') && !reached.has(file))).toEqual([])
    expect([...reached].filter((file) => !packed.includes(file))).toEqual([])
    expect(files).toEqual(
      expect.arrayContaining([
        'package/dist/openapi.json',
        'package/dist/client/index.js',
        'package/dist/client/index.d.ts',
        'package/dist/client/index.js.map',
      ]),
    )
    // What `npm ci --omit=dev` (a production install) leaves out is what the lockfile marks `dev`.
    const lock = JSON.parse(await readFile(join(site, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> }
    const production = Object.entries(lock.packages)
      .filter(([, entry]) => !entry.dev)
      .map(([path]) => path.split('node_modules/').at(-1))
    // ws stays: ably-js itself depends on it (for Node). Nothing else of the hub's is installed for production.
    for (const name of HUB_ONLY.filter((name) => name !== 'ws')) expect(production, name).not.toContain(name)
    const ws = await run('npm', ['explain', 'ws', '--json'], { cwd: site, maxBuffer: 1 << 24 })
    const needsWs = (JSON.parse(ws.stdout) as { dependents: { type: string; from: { name?: string } }[] }[]).flatMap((node) =>
      node.dependents.filter((dependent) => dependent.type === 'prod').map((dependent) => dependent.from.name),
    )
    expect(needsWs).toEqual(['ably'])
    expect(production.filter((name) => name === 'ably')).toHaveLength(1)
  })

  it('type-checks strictly under moduleResolution bundler and node16, the package’s declarations included (no skipLibCheck)', async () => {
    const tsc = (...args: string[]) =>
      run(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), ...args], { cwd: site, maxBuffer: 1 << 24 }).then(
        ({ stdout }) => ({ stdout, failed: false }),
        (error: { stdout: string; stderr: string }) => ({ stdout: `${error.stdout}${error.stderr}`, failed: true }),
      )
    for (const [project, moduleResolution] of [
      ['tsconfig.json', 'bundler'],
      ['tsconfig.node16.json', 'node16'],
    ] as const) {
      // The configuration as tsc reads it: strict, the resolution named, and library declarations checked.
      const { compilerOptions } = JSON.parse((await tsc('-p', project, '--showConfig')).stdout) as { compilerOptions: Record<string, unknown> }
      expect(compilerOptions, project).toMatchObject({ strict: true, moduleResolution })
      expect(compilerOptions.skipLibCheck ?? false, project).toBe(false)
      expect(compilerOptions.skipDefaultLibCheck ?? false, project).toBe(false)
      const checked = (await tsc('-p', project, '--listFilesOnly')).stdout.split('\n')
      expect(checked.filter((file) => file.includes('/node_modules/ably-netlify-integration/dist/') && file.endsWith('.d.ts')).length, project).toBeGreaterThan(
        10,
      )
      expect(await tsc('-p', project), project).toEqual({ stdout: '', failed: false })
    }
  }, 120_000)

  it.runIf(hasChromium)(
    'bundles its browser code with esbuild and receives, in Chromium, what the package’s local stack publishes',
    async () => {
      const bundled = await build({
        entryPoints: [join(site, 'src/main.ts')],
        absWorkingDir: site,
        bundle: true,
        write: false,
        format: 'esm',
        platform: 'browser',
        minify: true,
        metafile: true,
        logLevel: 'silent',
      })
      const inputs = Object.keys(bundled.metafile.inputs)
      expect(inputs.filter((input) => input.includes('node_modules/ably-netlify-integration/')).every((input) => input.includes('/dist/'))).toBe(true)
      expect(new Set(inputs.filter((input) => input.includes('node_modules/ably/')).map((input) => input.split('node_modules/ably/')[0])).size).toBe(1)
      const script = bundled.outputFiles[0]?.text ?? ''
      console.log(`consumer browser bundle: ${script.length} B, ${gzipSync(script).length} B gzip`)

      let stack: ChildProcess | undefined
      let browser: Browser | undefined
      try {
        stack = spawn(process.execPath, ['scripts/dev.mjs'], { cwd: site, stdio: ['ignore', 'pipe', 'inherit'] })
        const ready = await new Promise<{ url: string; hubPort: number; alice: string }>((resolve, reject) => {
          stack?.once('exit', (code) => reject(new Error(`the site's local stack exited with ${code}`)))
          createInterface({ input: stack?.stdout as NodeJS.ReadableStream }).on('line', (line) => {
            const parsed = line.startsWith('{"ready"') ? (JSON.parse(line) as { ready: { url: string; hubPort: number; alice: string } }) : undefined
            if (parsed) resolve(parsed.ready)
          })
        })
        const origin = await serveAppOrigin(script, ready.url)
        try {
          browser = await launchChromium()
          const page = await browser.newPage()
          const errors: string[] = []
          page.on('pageerror', (error) => errors.push(error.message))
          await page.goto(`${origin.url}/?${new URLSearchParams({ userId: 'alice', jwt: ready.alice, hubPort: String(ready.hubPort) })}`)
          await page.waitForFunction(() => 'consumer' in window, undefined, { timeout: 15_000 })
          expect(await page.evaluate(() => (window as unknown as { consumer: object }).consumer)).toMatchObject({
            connected: true,
            state: 'connected',
            channel: 'sms:alice:c1',
            defaultState: 'initialized',
          })
          const published = await fetch(`${ready.url}/api/ably/publish`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${ready.alice}`, 'Content-Type': 'application/json' },
            body: JSON.stringify({
              channelName: 'sms:alice:c1',
              eventName: 'message',
              data: {
                contactId: 'c1',
                userId: 'alice',
                phoneNumberId: 'pn1',
                message: 'hi from the site',
                direction: 'inbound',
                timestamp: new Date().toISOString(),
              },
            }),
          })
          expect(published.status).toBe(200)
          await page.waitForFunction(() => (window as unknown as { consumer: { received: unknown[] } }).consumer.received.length > 0, undefined, {
            timeout: 10_000,
          })
          expect(
            await page.evaluate(() =>
              (window as unknown as { consumer: { received: { data: { message: string } }[] } }).consumer.received.map((message) => message.data.message),
            ),
          ).toEqual(['hi from the site'])
          // The package's demo page, served from its prebuilt script.
          expect((await fetch(`${ready.url}/demo.js`)).status).toBe(200)
          expect(errors).toEqual([])
        } finally {
          await origin.close()
        }
      } finally {
        await browser?.close()
        stack?.kill('SIGTERM')
      }
    },
    120_000,
  )

  it('runs the ably-hub command from the site’s node_modules/.bin', async () => {
    const hub = spawn(join(site, 'node_modules/.bin/ably-hub'), [], {
      cwd: site,
      env: { ...process.env, ABLY_API_KEY: 'consumer.key:consumer-secret-0123456789abcdef', ABLY_HUB_PORT: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    try {
      const ready = await new Promise<{ url: string }>((resolve, reject) => {
        hub.once('exit', (code) => reject(new Error(`ably-hub exited with ${code}`)))
        createInterface({ input: hub.stdout }).on('line', (line) => {
          const event = JSON.parse(line) as { event?: string; url?: string }
          if (event.event === 'hub.ready' && event.url) resolve({ url: event.url })
        })
      })
      const time = await fetch(`${ready.url}/time`)
      expect(time.status).toBe(200)
    } finally {
      hub.kill('SIGTERM')
    }
  })

  it('keeps the token entry as small through the package as from the repository (Netlify’s edge bundler: esbuild, platform node)', async () => {
    const gzipOf = async (entry: string, cwd: string) => {
      const result = await build({
        entryPoints: [entry],
        absWorkingDir: cwd,
        bundle: true,
        write: false,
        format: 'esm',
        platform: 'node',
        minify: true,
        logLevel: 'silent',
      })
      return gzipSync(result.outputFiles[0]?.contents ?? new Uint8Array(), { level: 9 }).length
    }
    const consumer = await gzipOf(join(site, 'src/default-token-entry.ts'), site)
    const own = await gzipOf(join(repo, 'netlify/edge-functions/ably-token.ts'), repo)
    const board = await gzipOf(join(site, 'netlify/edge-functions/ably-token.ts'), site)
    console.log(`token entry, gzip: ${consumer} B from the package in the site, ${own} B from this repository; ${board} B with the site's board policy`)
    // The same code: only the lazy wrapper module differs. Tree shaking must survive the package (sideEffects: false).
    expect(consumer).toBeLessThan(own * 1.03)
  })

  it('passes the offline Netlify deploy check, built by Netlify’s own bundlers from the installed package', async () => {
    const out = join(scratch, 'deploy-check')
    await mkdir(out, { recursive: true })
    // The site serves its own policy (a team board): the check publishes and reads back what its deploy-check.json says.
    const sample = join(site, 'deploy-check.json')
    const result = await run(process.execPath, ['--import', 'tsx', join(repo, 'scripts/deploy-check.ts'), site, '--out', out, '--sample', sample], {
      cwd: repo,
      maxBuffer: 1 << 26,
    }).catch((error: { stdout: string; stderr: string; code: number }) => error)
    const failed = 'code' in result && result.code !== 0
    expect(failed ? `${result.stdout}\n${result.stderr}` : '', 'the deploy check').toBe('')
    expect(result.stdout).toContain('ok')
    const eszip = await stat(join(out, 'edge-functions')).then(() => readFile(join(out, 'edge-functions/manifest.json'), 'utf8'))
    const bundles = (JSON.parse(eszip) as { bundles: { asset: string }[] }).bundles
    for (const { asset } of bundles) console.log(`consumer edge bundle ${asset}: ${(await stat(join(out, 'edge-functions', asset))).size} B`)
    for (const name of ['ably-publish', 'ably-history', 'ably-health', 'ably-outbox', 'ably-revoke'])
      console.log(`consumer ${name}.zip: ${(await stat(join(out, 'functions', `${name}.zip`))).size} B`)
  }, 300_000)
})
