/** Loads a Netlify edge entry afresh on Deno, with `env` behind a `Netlify.env` shim: the Deno suites' one way in. */
import { definedVars } from '../support/runtime.ts'

type EdgeEntry = typeof import('../../netlify/edge-functions/ably-token.ts')

/** A new module instance of the entry (the query makes it one), so each test gets an isolate's first request. */
export async function loadEdgeEntry(
  name: 'ably-token' | 'ably-stats' | 'ably-presence',
  env: Record<string, string | undefined>,
): Promise<EdgeEntry['default']> {
  const vars = new Map(Object.entries(definedVars(env)))
  globalThis.Netlify = {
    context: null,
    env: {
      get: (key) => vars.get(key),
      has: (key) => vars.has(key),
      set: (key, value) => void vars.set(key, value),
      delete: (key) => void vars.delete(key),
      toObject: () => Object.fromEntries(vars),
    },
  }
  const entry: EdgeEntry = await import(`../../netlify/edge-functions/${name}.ts?instance=${crypto.randomUUID()}`)
  return entry.default
}
