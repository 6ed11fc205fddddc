/** The ready-made Netlify handlers a site's three-line entry files export: lazy, and their configs the route table's. */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { nodeFunctionConfig } from '../../src/wiring/netlify-node.ts'

afterEach(() => {
  vi.unstubAllGlobals()
  vi.unstubAllEnvs()
})

describe('./netlify-node', () => {
  it('gives the literal each Node entry file holds (this repository’s own entries are the reference)', async () => {
    for (const name of ['ably-publish', 'ably-history', 'ably-health', 'ably-outbox', 'ably-revoke'] as const) {
      const entry = (await import(`../../netlify/functions/${name}.mts`)) as { config: unknown }
      expect(nodeFunctionConfig(name), name).toEqual(entry.config)
    }
  })

  it('answers the generic 500 and logs config_error on its first request when the environment is bad, not at import', async () => {
    vi.stubEnv('ABLY_API_KEY', '')
    const lines: string[] = []
    const spy = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)))
    try {
      vi.resetModules()
      const { historyNetlifyFunction } = await import('../../src/wiring/netlify-node.ts')
      expect(lines).toEqual([])
      const res = await historyNetlifyFunction(new Request('https://site.example/api/ably/history?channelName=contacts:alice'))
      expect(res.status).toBe(500)
      expect(((await res.json()) as { code: string }).code).toBe('internal_error')
    } finally {
      spy.mockRestore()
    }
    expect(lines.join('')).toContain('"config_error"')
  })
})

describe('./netlify-edge', () => {
  it('reads Netlify.env on the first request, not at import, and serves the route', async () => {
    const toObject = vi.fn(() => ({}))
    vi.stubGlobal('Netlify', { env: { toObject } })
    vi.resetModules()
    const edge = await import('../../src/wiring/netlify-edge.ts')
    expect(toObject).not.toHaveBeenCalled()
    expect(edge.tokenEdgeConfig).toMatchObject({ path: '/api/ably/token' })
    expect(edge.statsEdgeConfig).toMatchObject({ path: '/api/ably/stats', cache: 'manual' })
    const spy = vi.spyOn(console, 'log').mockImplementation(() => {})
    try {
      const res = await edge.tokenEdgeFunction(new Request('https://site.example/api/ably/token', { method: 'POST' }))
      expect(res.status).toBe(500)
    } finally {
      spy.mockRestore()
    }
    expect(toObject).toHaveBeenCalledOnce()
  })
})
