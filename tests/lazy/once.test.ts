import { describe, expect, it } from 'vitest'
import { loadOnce } from '../../src/lazy/index.ts'

describe('loadOnce', () => {
  it('loads on the first call only, and concurrent first calls share the one load', async () => {
    let loads = 0
    const value = loadOnce(async () => ++loads)
    expect(loads).toBe(0)
    expect(await Promise.all([value(), value(), value()])).toEqual([1, 1, 1])
    expect(await value()).toBe(1)
    expect(loads).toBe(1)
  })

  it('forgets a failed load, so the next call loads again instead of failing for good', async () => {
    let loads = 0
    const value = loadOnce(async () => {
      loads++
      if (loads === 1) throw new Error('import failed')
      return 'loaded'
    })
    const [first, second] = await Promise.allSettled([value(), value()])
    expect(first).toMatchObject({ status: 'rejected' })
    expect(second).toMatchObject({ status: 'rejected' })
    expect(loads).toBe(1)
    expect(await value()).toBe('loaded')
    expect(await value()).toBe('loaded')
    expect(loads).toBe(2)
  })
})
