/** The token edge entry with the team chat policy (tests/policy/team-chat.ts) instead of the default SMS inbox. */
import { tokenRoutes } from '../../src/routes/token.ts'
import { apiHandler, lazyHandler } from '../../src/wiring/handlers.ts'
import { teamChat } from '../../tests/policy/team-chat.ts'

declare const Netlify: { env: { toObject(): Record<string, string> } }

export default lazyHandler(() => Netlify.env.toObject(), apiHandler({ routes: [tokenRoutes], settings: ['tokenTtl'], policy: teamChat }))
