/** The payload schemas are built on Node only: zod never reaches an edge entry, or the browser client, with any policy. */
import { describe, expect, it } from 'vitest'
import { bundle } from '../../bench/bundle.ts'

describe('zod stays off the edge and the browser', () => {
  it.each(['netlify/edge-functions/ably-token.ts', 'netlify/edge-functions/ably-stats.ts', 'bench/token-entries/team-chat.ts', 'src/client/index.ts'])(
    '%s bundles without zod',
    async (entry) => {
      const code = await bundle(entry, { minify: false })
      expect(code).toContain('compileKinds')
      expect(code).not.toContain('node_modules/zod')
    },
    30_000,
  )
})

describe('the built-in policy at the edge', () => {
  it('carries no policy checks: the suite runs them instead (policy.test.ts)', async () => {
    const code = await bundle('netlify/edge-functions/ably-token.ts', { minify: false })
    expect(code).toContain('builtInPolicy')
    expect(code).not.toContain('policyProblems')
    // A site's own policy is checked when its module loads, at the edge too.
    expect(await bundle('bench/token-entries/team-chat.ts', { minify: false })).toContain('policyProblems')
  }, 30_000)
})
