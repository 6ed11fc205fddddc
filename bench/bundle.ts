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

/**
 * `entry` bundled with code splitting, as a runtime that loads dynamic imports on demand (Deno's eszip, Workers'
 * modules) runs it: `initial` is the entry with every chunk it imports statically (what is evaluated at start),
 * `lazy` the chunks only a dynamic `import()` loads (the key-set code, src/auth/keys.ts).
 */
export async function bundleSplit(entry: string): Promise<{ initial: string; lazy: string }> {
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
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
    splitting: true,
    outdir: '/split-out',
    metafile: true,
  })
  const outputs = result.metafile.outputs
  const entryOut = Object.keys(outputs).find((path) => outputs[path]?.entryPoint !== undefined)
  const initial = new Set<string>()
  const visit = (path: string) => {
    if (initial.has(path)) return
    initial.add(path)
    for (const imported of outputs[path]?.imports ?? []) if (imported.kind === 'import-statement') visit(imported.path)
  }
  if (entryOut) visit(entryOut)
  const text = (inInitial: boolean) =>
    result.outputFiles
      .filter((file) => Object.keys(outputs).some((path) => file.path.endsWith(path.replace(/^.*split-out/, '')) && initial.has(path) === inInitial))
      .map((file) => file.text)
      .join('\n')
  return { initial: text(true), lazy: text(false) }
}
