import { Hono } from 'hono/tiny'
import { describe, expect, it } from 'vitest'
import { AppError } from '../../src/errors/index.ts'
import { deadline } from '../../src/middleware/deadline/index.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** An app whose `/sleep/:ms` answers after `ms`, behind a 60 ms deadline; a 504 shows as its error code. */
function app(ms = 60) {
  return new Hono()
    .use(deadline(ms))
    .get('/sleep/:ms', async (c) => {
      await sleep(Number(c.req.param('ms')))
      return c.text('done')
    })
    .onError((error, c) => c.text(error instanceof AppError ? error.code : 'other', error instanceof AppError ? error.status : 500))
}

describe('deadline', () => {
  it('cuts each slow request at its own deadline while fast ones answer, however they interleave', async () => {
    const instance = app()
    const started = performance.now()
    const request = async (delay: number, ms: number) => {
      await sleep(delay)
      const sent = performance.now() - started
      const res = await instance.request(`/sleep/${ms}`)
      return { status: res.status, body: await res.text(), sent, at: performance.now() - started }
    }
    const [slowFirst, fast, slowLater] = await Promise.all([request(0, 500), request(10, 5), request(40, 500)])
    expect(fast).toMatchObject({ status: 200, body: 'done' })
    expect(slowFirst).toMatchObject({ status: 504, body: 'deadline_exceeded' })
    expect(slowLater).toMatchObject({ status: 504, body: 'deadline_exceeded' })
    // Each is cut no sooner than its own 60 ms, and long before its handler's 500 ms.
    for (const slow of [slowFirst, slowLater]) expect(slow.at - slow.sent).toBeGreaterThanOrEqual(59)
    expect(slowLater.at).toBeGreaterThan(slowFirst.at)
    expect(slowLater.at).toBeLessThan(400)
  })

  it('still cuts a request that starts after every earlier one has finished', async () => {
    const instance = app(30)
    expect((await instance.request('/sleep/1')).status).toBe(200)
    await sleep(80)
    const res = await instance.request('/sleep/500')
    expect(res.status).toBe(504)
  })

  it('rejects a deadline that is not a positive number at once', () => {
    for (const ms of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => deadline(ms)).toThrow(TypeError)
  })
})
