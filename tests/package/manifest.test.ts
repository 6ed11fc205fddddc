/** package.json as a consumer meets it: exports and bin from src/public.ts, and dependencies a site can live with. */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { packageBin, packageExports, rewriteDeclarationImports } from '../../scripts/package/manifest.ts'
import { PUBLIC_ENTRIES } from '../../src/public.ts'

const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as Record<string, Record<string, unknown>>

describe('package.json', () => {
  it('exports every public subpath and bin, exactly as src/public.ts declares them (npm run build:package writes them)', () => {
    expect(manifest.exports).toEqual(packageExports())
    expect(manifest.bin).toEqual(packageBin())
    expect(Object.keys(manifest.exports ?? {})).toEqual([...Object.keys(PUBLIC_ENTRIES), './openapi.json', './package.json'])
    expect(manifest.exports?.['./client']).toEqual({ types: './dist/client/index.d.ts', default: './dist/client/index.js' })
  })

  it('is publishable ESM without side effects, shipping dist only', () => {
    expect(manifest.private).toBeUndefined()
    expect(manifest.type).toBe('module')
    expect(manifest.sideEffects).toBe(false)
    expect(manifest.files).toEqual(expect.arrayContaining(['dist', '!dist/public.*']))
    expect(manifest.scripts?.prepack).toBe('npm run build:package')
  })

  it('takes ably as a peer (one copy of ably-js for the app and ably/react), mongodb as optional, and keeps the hub’s modules out of a production install', () => {
    expect(manifest.peerDependencies?.ably).toMatch(/^\^2\./)
    expect(manifest.dependencies).not.toHaveProperty('ably')
    expect(manifest.optionalDependencies).toHaveProperty('mongodb')
    // Not even as optional peers: npm counts an installed optional peer of a production dependency as production, so a
    // site's devDependency would land in its production install. The site installs them with -D (README, Installation).
    for (const hubOnly of ['ws', '@msgpack/msgpack', '@jmespath-community/jmespath', '@hono/node-server']) {
      for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies'])
        expect(manifest[field], `${hubOnly} in ${field}`).not.toHaveProperty(hubOnly)
      expect(manifest.devDependencies, hubOnly).toHaveProperty(hubOnly)
    }
  })
})

describe('rewriteDeclarationImports', () => {
  it('turns relative .ts specifiers of a declaration file into .js, and leaves packages and strings alone', () => {
    const text = [
      "import type { A } from './a.ts';",
      "export { B } from '../b/index.ts';",
      'export * from "./c.ts";',
      "type D = import('./d.ts').D;",
      "import type { Z } from 'zod';",
      "declare const file: 'src/client/index.ts';",
      'type E = import("zod/v4/core").$strict;',
    ].join('\n')
    expect(rewriteDeclarationImports(text)).toBe(
      [
        "import type { A } from './a.js';",
        "export { B } from '../b/index.js';",
        'export * from "./c.js";',
        "type D = import('./d.js').D;",
        "import type { Z } from 'zod';",
        "declare const file: 'src/client/index.ts';",
        'type E = import("zod/v4/core").$strict;',
      ].join('\n'),
    )
  })
})
