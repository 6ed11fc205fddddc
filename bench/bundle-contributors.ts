/**
 * The biggest contributors to an edge entry, per module, from esbuild's metafile: minified bytes in the part an
 * isolate evaluates at start (`initial`) and in the part only a dynamic `import()` loads (`lazy`).
 * `npx tsx bench/bundle-contributors.ts [entry] [top]` (default: the token entry, top 25).
 */
import { pathToFileURL } from 'node:url'
import { gzipSync } from 'node:zlib'
import { bundleSplit, type ModuleShare } from './bundle.ts'

export async function contributors(entry: string, top = 25): Promise<{ initialGzip: number; lazyGzip: number; modules: ModuleShare[] }> {
  const split = await bundleSplit(entry)
  const gzip = (code: string) => gzipSync(code, { level: 9 }).length
  return { initialGzip: gzip(split.initial), lazyGzip: gzip(split.lazy), modules: split.modules.slice(0, top) }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const entry = process.argv[2] ?? 'netlify/edge-functions/ably-token.ts'
  const { initialGzip, lazyGzip, modules } = await contributors(entry, Number(process.argv[3] ?? 25))
  console.log(`${entry}: initial ${initialGzip} B gzip, lazy ${lazyGzip} B gzip\n`)
  console.log('| module | part | minified bytes |\n|---|---|---:|')
  for (const { module, part, bytes } of modules) console.log(`| ${module} | ${part} | ${bytes} |`)
}
