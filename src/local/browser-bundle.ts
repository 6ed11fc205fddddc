/** Bundles TypeScript for the browser with esbuild: the demo's script, and the client size bench. */
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface BrowserBundleOptions {
  minify?: boolean
}

/** One minified ESM file for modern browsers, from an entry path (from the repository root) or module source. */
export async function bundleForBrowser(entry: string | { contents: string }, { minify = true }: BrowserBundleOptions = {}): Promise<string> {
  // Loaded on first use: `npm start` pays for esbuild only when the demo's script is first asked for.
  const { build } = await import('esbuild')
  const result = await build({
    ...(typeof entry === 'string' ? { entryPoints: [entry] } : { stdin: { contents: entry.contents, resolveDir: ROOT, loader: 'ts' } }),
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    treeShaking: true,
    minify,
    legalComments: 'none',
    logLevel: 'silent',
  })
  const [file] = result.outputFiles
  if (!file) throw new Error(`esbuild produced no output for ${typeof entry === 'string' ? entry : 'module source'}`)
  return file.text
}
