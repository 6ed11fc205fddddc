/**
 * Unused files, exports and dependencies (`npm run lint`). The public surface (src/public.ts) is an entry, so its
 * exports count as used; so are the doors and tools that import src/ from outside it.
 */
import type { KnipConfig } from 'knip'
import { PUBLIC_BINS, PUBLIC_ENTRIES } from './src/public.ts'

const config: KnipConfig = {
  entry: [
    ...Object.values(PUBLIC_ENTRIES).map((entry) => entry.file),
    ...Object.values(PUBLIC_BINS),
    'netlify/edge-functions/*.ts',
    'netlify/functions/*.mts',
    'hosts/*.ts',
    'scripts/*.ts',
    'scripts/deploy-check/deno/*.ts',
    'bench/*.ts',
    'bench/**/*.ts',
    'tests/**/*.test.ts',
    'examples/*.mjs',
    // Bundled by path: the demo page's script (src/local/browser-bundle.ts) and the deploy check's canary function.
    'src/local/demo/main.ts',
    'scripts/deploy-check/canary/*.ts',
  ],
  // An export that only its own file uses is reported too: a module exports what others use, nothing more.
  ignoreExportsUsedInFile: false,
  // A consumer's site, type-checked and built against the packed package by tests/package/consumer.test.ts.
  ignore: ['tests/package/site/**'],
  project: ['src/**/*.ts', 'netlify/**/*.{ts,mts}', 'hosts/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts', 'tests/**/*.ts', 'examples/**/*.mjs'],
}

export default config
