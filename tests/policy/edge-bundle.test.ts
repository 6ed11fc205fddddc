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
  const neverAtTheEdge = (code: string) => {
    expect(code).not.toContain('policyProblems')
    // The events' schema builders (`data: (z) => z.strictObject(...)`) are the gateway's alone.
    expect(code).not.toContain('strictObject')
    expect(code).not.toContain('message_status')
  }

  it('the token entry carries the SMS inbox credential facet alone: no parser, access rules or checks (the suite runs them: policy.test.ts), and no payload schema code', async () => {
    const code = await bundle('netlify/edge-functions/ably-token.ts', { minify: false })
    expect(code).toContain('credentialsOf')
    expect(code).not.toContain('builtInChannels')
    expect(code).not.toContain('mayPublish')
    neverAtTheEdge(code)
  }, 30_000)

  it('the stats entry carries the SMS inbox channels, with no policy checks and no payload schema code', async () => {
    const code = await bundle('netlify/edge-functions/ably-stats.ts', { minify: false })
    expect(code).toContain('builtInChannels')
    neverAtTheEdge(code)
  }, 30_000)

  it('a site policy is checked where it loads, at the edge too', async () => {
    expect(await bundle('bench/token-entries/team-chat.ts', { minify: false })).toContain('policyProblems')
  }, 30_000)
})
