/**
 * Builds the package into dist/ (`npm run build:package`; `npm pack` and `npm publish` run it as `prepack`):
 *
 * 1. tsc (tsconfig.build.json): ESM JavaScript with source maps (sources inlined) and `.d.ts` for every file of src/,
 *    relative `.ts` imports rewritten to `.js`. tsc leaves them as written in declarations, so this script rewrites
 *    those too: nothing `.ts` reaches a consumer, under `moduleResolution: bundler` or `node16`.
 * 2. The demo page's assets beside its module, and its browser script bundled once (the local stack serves that file
 *    instead of bundling main.ts at run time, which needs esbuild and the sources).
 * 3. dist/openapi.json, generated from the wire contract (src/contract/openapi.ts).
 * 4. package.json's `exports` and `bin`, from src/public.ts (scripts/package/manifest.ts). With `--check`, nothing is
 *    built: it exits 1 when package.json differs from what the declaration gives; with `--manifest`, only package.json
 *    is written.
 */
import { execFileSync } from 'node:child_process'
import { chmod, copyFile, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { openApiDocument } from '../src/contract/openapi.ts'
import { bundleForBrowser } from '../src/local/browser-bundle.ts'
import { packageBin, packageExports, rewriteDeclarationImports } from './package/manifest.ts'

const root = join(import.meta.dirname, '..')
const dist = join(root, 'dist')
const { values } = parseArgs({ options: { check: { type: 'boolean', default: false }, manifest: { type: 'boolean', default: false } } })

async function* files(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) yield* files(path)
    else yield path
  }
}

async function syncManifest(check: boolean): Promise<boolean> {
  const path = join(root, 'package.json')
  const text = await readFile(path, 'utf8')
  const manifest = JSON.parse(text) as Record<string, unknown>
  const next = { ...manifest, exports: packageExports(), bin: packageBin() }
  const same = JSON.stringify(next.exports) === JSON.stringify(manifest.exports) && JSON.stringify(next.bin) === JSON.stringify(manifest.bin)
  if (check) {
    if (!same) console.error('package.json exports/bin differ from src/public.ts: run npm run build:package')
    return same
  }
  if (!same) await writeFile(path, `${JSON.stringify(next, null, 2)}\n`)
  return true
}

async function build() {
  await rm(dist, { recursive: true, force: true })
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], {
    stdio: ['ignore', process.stderr, process.stderr],
  })

  let rewritten = 0
  for await (const file of files(dist)) {
    if (!file.endsWith('.d.ts')) continue
    const text = await readFile(file, 'utf8')
    const next = rewriteDeclarationImports(text)
    if (next !== text) {
      await writeFile(file, next)
      rewritten++
    }
  }

  const demo = join(dist, 'local/demo')
  await Promise.all(['index.html', 'demo.css'].map((name) => copyFile(join(root, 'src/local/demo', name), join(demo, name))))
  await writeFile(join(demo, 'demo.js'), await bundleForBrowser('src/local/demo/main.ts'))
  // The demo's own browser module is bundled above; its compiled copy would only be dead weight.
  await Promise.all(['main.js', 'main.js.map', 'main.d.ts'].map((name) => rm(join(demo, name), { force: true })))

  const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string }
  await writeFile(join(dist, 'openapi.json'), `${JSON.stringify(openApiDocument({ version }), null, 2)}\n`)

  for (const bin of Object.values(packageBin())) await chmod(join(root, bin), 0o755)
  await syncManifest(false)
  // On stderr: `npm pack --json` prints its JSON on stdout after this.
  console.error(`dist/ built; ${rewritten} declaration files had their relative imports rewritten to .js`)
}

if (values.check) process.exit((await syncManifest(true)) ? 0 : 1)
if (values.manifest) await syncManifest(false)
else await build()
