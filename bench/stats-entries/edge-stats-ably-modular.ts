/** The ably-stats edge entry as it would be with the ably/modular port injected instead of the default one. */
import { createApp } from '../../src/app.ts'
import { parseConfig } from '../../src/config/parse.ts'
import { createAblyModularRest } from '../ably-modular-rest.ts'
import { statsRoutes } from '../../src/routes/stats.ts'

const config = parseConfig(Netlify.env.toObject())
const app = createApp(config, { ably: createAblyModularRest(config.ably), routes: [statsRoutes] })

export default (request: Request) => app.fetch(request)
