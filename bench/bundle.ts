/** Bundles an entry the way an edge or Workers bundler would: one ESM file, web conditions, tree-shaken. */
import { build } from 'esbuild'

export interface BundleOptions {
  minify?: boolean
}

/** The bundled code of `entry` (a path from the repository root). */
export async function bundle(entry: string, { minify = true }: BundleOptions = {}): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    treeShaking: true,
    minify,
    legalComments: 'none',
    logLevel: 'silent',
  })
  const [file] = result.outputFiles
  if (!file) throw new Error(`esbuild produced no output for ${entry}`)
  return file.text
}
