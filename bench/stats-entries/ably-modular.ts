/** Minimal stats entry over the ably/modular port (bench/ably-modular-rest.ts). */
import { createAblyModularRest } from '../ably-modular-rest.ts'
import { statsModule } from './stats-handler.ts'

export default statsModule(createAblyModularRest)
