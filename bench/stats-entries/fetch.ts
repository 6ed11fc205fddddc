/** Minimal stats entry over the plain-`fetch` port (src/ably-rest). */
import { createFetchAblyRest } from '../../src/ably-rest/index.ts'
import { statsModule } from './stats-handler.ts'

export default statsModule(createFetchAblyRest)
