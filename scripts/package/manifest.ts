/**
 * package.json's `exports` and `bin`, derived from the one declaration of the public surface (src/public.ts).
 * `npm run build:package` writes them into package.json; tests/package/manifest.test.ts fails when they differ.
 */
import { PUBLIC_BINS, PUBLIC_ENTRIES } from '../../src/public.ts'

/** Where tsc (tsconfig.build.json) writes `src/<path>.ts`: `dist/<path>.js` beside `dist/<path>.d.ts`. */
export function builtPath(sourceFile: string, extension: '.js' | '.d.ts'): string {
  if (!/^src\/.+\.ts$/.test(sourceFile)) throw new Error(`${sourceFile}: a public file must be a .ts file under src/`)
  return `./dist/${sourceFile.slice('src/'.length, -'.ts'.length)}${extension}`
}

export interface ExportTarget {
  readonly types: string
  readonly default: string
}

/**
 * One entry per public subpath, `types` first (TypeScript takes the first condition that matches, under both
 * `moduleResolution: bundler` and `node16`). No `node` or `browser` condition: every subpath is one file for every
 * runtime, so Netlify's edge bundler (esbuild with `platform: 'node'`) resolves the same web-standard code Deno runs.
 */
export function packageExports(): Record<string, ExportTarget | string> {
  const exports: Record<string, ExportTarget | string> = {}
  for (const [subpath, { file }] of Object.entries(PUBLIC_ENTRIES)) exports[subpath] = { types: builtPath(file, '.d.ts'), default: builtPath(file, '.js') }
  // The OpenAPI 3.1 document of every route, generated at build time from the wire contract (scripts/package/openapi.ts).
  exports['./openapi.json'] = './dist/openapi.json'
  exports['./package.json'] = './package.json'
  return exports
}

export function packageBin(): Record<string, string> {
  // Without the leading `./`: `npm publish` drops a bin whose path it would have to normalize.
  return Object.fromEntries(Object.entries(PUBLIC_BINS).map(([name, file]) => [name, builtPath(file, '.js').slice('./'.length)]))
}

/**
 * `from './x.ts'`, `import('./x.ts')` and `declare module './x.ts'` in a declaration file, to `.js`. Package specifiers
 * are left as tsc wrote them: it only writes ones the package's exports name (else the build fails with TS2742).
 */
export function rewriteDeclarationImports(text: string): string {
  return text.replace(/((?:from|import\(|module)\s*['"])(\.{1,2}\/[^'"]+?)\.ts(['"])/g, '$1$2.js$3')
}
