/**
 * What every Node HTTP listener we start shares (`npm start`'s API and demo, the local hub): a bounded header phase
 * and a bounded request, and a connection that is never left to guess whether its next request will be read.
 */
import type { IncomingMessage, ServerOptions } from 'node:http'

/** A client has this long to send a request's headers; then Node answers 408 and closes (its default is 60 s). */
export const HEADERS_TIMEOUT_MS = 10_000
/** The whole request, headers and body (the body limit's own 10 s budget, read after the headers, fits inside). */
const REQUEST_TIMEOUT_MS = 30_000

/** `http.createServer` options. Node checks the two timeouts every `connectionsCheckingInterval` (default 30 s). */
export const NODE_SERVER_OPTIONS = {
  headersTimeout: HEADERS_TIMEOUT_MS,
  requestTimeout: REQUEST_TIMEOUT_MS,
  connectionsCheckingInterval: 1000,
} as const satisfies ServerOptions

/**
 * Wraps a fetch handler for `@hono/node-server`: an answer given before the request's body had arrived in full says
 * `Connection: close`. Otherwise the rest of that body would be taken for the next request, or the server would
 * drop the connection under a next request the client was entitled to send.
 */
export function closeWhenBodyUnread<B extends { incoming: IncomingMessage | object }>(
  fetch: (request: Request, bindings: B) => Response | Promise<Response>,
): (request: Request, bindings: B) => Promise<Response> {
  return async (request, bindings) => {
    const response = await fetch(request, bindings)
    const { incoming } = bindings
    if (!('complete' in incoming) || incoming.complete || response.headers.get('connection') === 'close') return response
    const headers = new Headers(response.headers)
    headers.set('Connection', 'close')
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers })
  }
}
