/** `npm start`: the API, the gateway, the demo and the local hub in one Node process (see src/wiring/local-stack.ts). */
import { ConfigError } from '../src/config/index.ts'
import { banner } from '../src/local/banner.ts'
import { startLocalStack } from '../src/wiring/local-stack.ts'

try {
  const stack = await startLocalStack({ env: process.env })
  console.log(await banner(stack))
  const stop = () => void stack.close().then(() => process.exit(0))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  console.error(error.message)
  process.exit(1)
}
