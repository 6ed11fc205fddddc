/** Bundles an entry the way an edge or Workers bundler would: one ESM file, web conditions, tree-shaken. */
import { build, type BuildOptions, type Plugin } from 'esbuild'

export interface BundleOptions {
  minify?: boolean
}

/** How an edge or Workers bundler builds: one ESM file, web conditions, tree-shaken. */
const EDGE_BUILD = {
  bundle: true,
  write: false,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  conditions: ['workerd', 'worker', 'browser'],
  mainFields: ['browser', 'module', 'main'],
  treeShaking: true,
} satisfies BuildOptions

/** The bundled code of `entry` (a path from the repository root). */
export async function bundle(entry: string, { minify = true }: BundleOptions = {}): Promise<string> {
  return bundleText({ entryPoints: [entry], minify }, entry)
}

/**
 * The code on an entry's path at start, as a bundler counts it: `entries` bundled as one module (minified, tree-shaken)
 * with every dynamic `import()` left out, and none of code splitting's linking code. Several entries are bundled
 * together with all their exports kept (the path of an isolate that also loads them).
 */
export async function bundleStatic(entries: readonly string[]): Promise<string> {
  const [only] = entries
  const input: BuildOptions =
    entries.length === 1 && only !== undefined
      ? { entryPoints: [only] }
      : {
          stdin: {
            contents: entries.map((entry, index) => `export * as module${index} from './${entry}'`).join('\n'),
            resolveDir: process.cwd(),
            loader: 'ts',
          },
        }
  return bundleText({ ...input, minify: true, plugins: [LAZY_IMPORTS_LEFT_OUT] }, entries.join(', '))
}

/** Leaves every dynamic `import()` out of the bundle, as an import of its own. */
const LAZY_IMPORTS_LEFT_OUT: Plugin = {
  name: 'lazy-imports-left-out',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => (args.kind === 'dynamic-import' ? { path: args.path, external: true } : undefined))
  },
}

/** `input` built as an edge bundler builds, without writing: the one output file's text. */
async function bundleText(input: BuildOptions, label: string): Promise<string> {
  const result = await build({ ...input, ...EDGE_BUILD, legalComments: 'none', logLevel: 'silent' })
  const [file] = result.outputFiles
  if (!file) throw new Error(`esbuild produced no output for ${label}`)
  return file.text
}

/** One module's share of a split bundle: its minified bytes in the initial or the lazy part. */
export interface ModuleShare {
  module: string
  bytes: number
  part: 'initial' | 'lazy'
}

export interface SplitBundle {
  initial: string
  /** Every chunk only a dynamic `import()` loads. */
  lazy: string
  /** The lazy chunks that hold any of `modules` (see `bundleSplit`), with the lazy chunks they import. */
  lazyOf: (modules: readonly string[]) => string
  /** Every bundled module with its minified bytes, largest first (from esbuild's metafile). */
  modules: ModuleShare[]
}

/**
 * `entry` bundled with code splitting, as a runtime that loads dynamic imports on demand (Deno's eszip, Workers'
 * modules) runs it: `initial` is the entry with every chunk it imports statically (what is evaluated at start),
 * `lazy` the chunks only a dynamic `import()` loads (the key-set code, src/auth/keys.ts).
 */
export async function bundleSplit(entry: string): Promise<SplitBundle> {
  const result = await build({
    entryPoints: [entry],
    ...EDGE_BUILD,
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
    splitting: true,
    outdir: '/split-out',
    metafile: true,
  })
  const outputs = result.metafile.outputs
  // Every dynamically imported module is an entry point of its own: find the one the build started from.
  const entryOut = Object.keys(outputs).find((path) => outputs[path]?.entryPoint === entry.replace(/^\.\//, ''))
  const initial = new Set<string>()
  const visit = (path: string) => {
    if (initial.has(path)) return
    initial.add(path)
    for (const imported of outputs[path]?.imports ?? []) if (imported.kind === 'import-statement') visit(imported.path)
  }
  if (!entryOut) throw new Error(`esbuild produced no output for ${entry}`)
  visit(entryOut)
  const textOf = (paths: (path: string) => boolean) =>
    result.outputFiles
      .filter((file) => Object.keys(outputs).some((path) => file.path.endsWith(path.replace(/^.*split-out/, '')) && paths(path)))
      .map((file) => file.text)
      .join('\n')
  const text = (inInitial: boolean) => textOf((path) => initial.has(path) === inInitial)
  const lazyOf = (modules: readonly string[]) => {
    const chosen = new Set<string>()
    const add = (path: string) => {
      if (initial.has(path) || chosen.has(path)) return
      chosen.add(path)
      for (const imported of outputs[path]?.imports ?? []) if (imported.kind === 'import-statement') add(imported.path)
    }
    for (const [path, output] of Object.entries(outputs)) if (modules.some((module) => module in output.inputs)) add(path)
    return textOf((path) => chosen.has(path))
  }
  const modules = Object.entries(outputs)
    .flatMap(([path, output]) =>
      Object.entries(output.inputs).map(([module, { bytesInOutput }]) => ({
        module,
        bytes: bytesInOutput,
        part: initial.has(path) ? ('initial' as const) : ('lazy' as const),
      })),
    )
    .filter(({ bytes }) => bytes > 0)
    .sort((a, b) => b.bytes - a.bytes)
  return { initial: text(true), lazy: text(false), lazyOf, modules }
}
