/**
 * Vitest setup (vitest.config.ts): every answer a `hono/tiny` app gives in the suite, through `app.request()` or
 * `app.fetch` (what @hono/node-server and the Netlify doors call), is checked against the OpenAPI document
 * (`responseProblems`). A test in which any answer does not conform fails, naming the route and what was wrong.
 */
import { afterEach, expect, vi } from 'vitest'
import { responseProblems } from './openapi.ts'

const problems: Promise<string[]>[] = []

function check(request: Request, response: Response) {
  const url = new URL(request.url)
  const method = request.method.toUpperCase()
  if (!url.pathname.startsWith('/api/ably/')) return
  problems.push(responseProblems(method, url, response).catch((error: unknown) => [`${method} ${url.pathname}: the check failed: ${String(error)}`]))
}

vi.mock('hono/tiny', async (importOriginal) => {
  const original = await importOriginal<typeof import('hono/tiny')>()
  // `app.request()` builds a Request and calls `this.fetch`, so wrapping `fetch` sees both.
  class CheckedHono extends original.Hono {
    constructor(...args: ConstructorParameters<typeof original.Hono>) {
      super(...args)
      const fetch = this.fetch
      this.fetch = (request, ...rest) => {
        const answer = fetch(request, ...rest)
        void Promise.resolve(answer).then(
          (response) => check(request, response),
          () => {},
        )
        return answer
      }
    }
  }
  return { ...original, Hono: CheckedHono }
})

afterEach(async () => {
  const found = (await Promise.all(problems.splice(0))).flat()
  expect(found, 'answers that do not match the OpenAPI document (src/contract/openapi.ts)').toEqual([])
})
