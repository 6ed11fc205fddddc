/**
 * Each export's size for its runtime (`npx tsx scripts/package-sizes.ts`, after `npm run build:package`): the built
 * subpath bundled with esbuild and minified as that runtime would get it, then gzip. Browser and `any` modules for the
 * browser (ably-js included, as a page ships it); edge modules as Netlify's edge bundler builds them (esbuild,
 * `platform: 'node'`, every npm import bundled); Node modules with every npm import bundled except the MongoDB driver
 * (Netlify ships Node functions' node_modules as files, and the driver dominates: it is reported apart).
 */
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { PUBLIC_ENTRIES } from '../src/public.ts'
import { builtPath } from './package/manifest.ts'

const root = join(import.meta.dirname, '..')
const rows: string[] = ['| Subpath | Runtime | Minified | gzip |', '| --- | --- | ---: | ---: |']
for (const [subpath, entry] of Object.entries(PUBLIC_ENTRIES)) {
  const platform = entry.runs === 'browser' || entry.runs === 'any' ? 'browser' : 'node'
  const result = await build({
    entryPoints: [join(root, builtPath(entry.file, '.js'))],
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    platform,
    external: entry.runs === 'node' ? ['mongodb', 'node:*'] : ['node:*'],
    logLevel: 'silent',
  })
  const code = result.outputFiles[0]?.contents ?? new Uint8Array()
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`
  rows.push(`| \`${subpath}\` | ${entry.runs}${'devOnly' in entry ? ' (dev)' : ''} | ${kb(code.length)} | ${kb(gzipSync(code).length)} |`)
}
console.log(rows.join('\n'))
