/**
 * Serves one token-route contender on an ephemeral loopback port and prints `{"port":…}`; runs until killed.
 * `tsx bench/token/serve.ts <contender>` on Node (`@hono/node-server`, Express's `listen`, or bare `node:http` for
 * the ceiling); `deno run … bench/token/serve.ts <contender>` on Deno (`Deno.serve`). Express is not run on Deno.
 */
import { createServer } from 'node:http'
import process from 'node:process'
import { nodeCeiling, webCryptoCeiling, ceilingHandler } from './contenders/ceiling.ts'
import { oursHandler } from './contenders/ours.ts'
import { tokenRequestHandler } from './contenders/token-request.ts'
import type { Contender, FetchHandler } from './fixtures.ts'

/** The part of Deno's API this file uses, so it type-checks under Node's types too. */
interface DenoServe {
  serve(options: { port: number; hostname: string; onListen(addr: { port: number }): void }, handler: FetchHandler): unknown
}

const listening = (port: number) => console.log(JSON.stringify({ port }))
const HOST = '127.0.0.1'

async function serveOnNode(contender: Contender): Promise<void> {
  if (contender === 'ours' || contender === 'tokenRequest') {
    const { serve } = await import('@hono/node-server')
    const fetch = contender === 'ours' ? oursHandler() : tokenRequestHandler()
    serve({ fetch, port: 0, hostname: HOST }, (info) => listening(info.port))
  } else if (contender === 'ceiling') {
    const issue = nodeCeiling()
    const server = createServer((req, res) => {
      const body = issue(req.headers.authorization) as string | undefined
      res.writeHead(body === undefined ? 401 : 200, { 'content-type': 'application/json' }).end(body ?? '{"error":"unauthorized"}')
    })
    server.listen(0, HOST, () => listening(portOf(server.address())))
  } else {
    const { expressJwtApp } = await import('./contenders/express-jwt.ts')
    const server = expressJwtApp(contender === 'expressString' ? 'string' : 'keyObject').listen(0, HOST, () => listening(portOf(server.address())))
  }
}

function serveOnDeno(deno: DenoServe, contender: Contender): void {
  const handlers: Partial<Record<Contender, () => FetchHandler>> = {
    ours: oursHandler,
    tokenRequest: tokenRequestHandler,
    ceiling: () => ceilingHandler(webCryptoCeiling()),
  }
  const handler = handlers[contender]
  if (!handler) throw new Error(`${contender} is not served on Deno`)
  deno.serve({ port: 0, hostname: HOST, onListen: ({ port }) => listening(port) }, handler())
}

function portOf(address: ReturnType<ReturnType<typeof createServer>['address']>): number {
  if (address === null || typeof address === 'string') throw new Error('not listening on a TCP port')
  return address.port
}

const contender = process.argv[2] as Contender
if (contender === undefined) throw new TypeError('usage: serve.ts <contender>')
// Exit cleanly when stopped, so `--cpu-prof` can write its profile.
process.once('SIGTERM', () => process.exit(0))
const deno = (globalThis as { Deno?: DenoServe }).Deno
if (deno) serveOnDeno(deno, contender)
else await serveOnNode(contender)
