/** The cold-start baseline: a bare Hono app, as its docs start, answering the token path with a fixed JSON body. */
import { Hono } from 'hono'

const app = new Hono().post('/api/ably/token', (c) => c.json({ token: 'not-a-token' }))

export default (request: Request) => app.fetch(request)
