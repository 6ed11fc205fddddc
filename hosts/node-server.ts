/** `npm start`: the API, the gateway, the demo and the local hub in one Node process (see src/wiring/local-stack.ts). */
import { ConfigError } from '../src/config/index.ts'
import { banner } from '../src/local/banner.ts'
import { removeRunningStack, writeRunningStack } from '../src/local/dev-secrets.ts'
import { PortInUseError, startLocalStack } from '../src/wiring/local-stack.ts'

try {
  const stack = await startLocalStack({ env: process.env })
  // For `npm run dev:token`: which secret this stack accepts (a one-way label, never the secret).
  await writeRunningStack({ pid: process.pid, url: stack.url, secrets: stack.sources.secrets, jwtSecretId: stack.jwtSecretId })
  console.log(await banner(stack))
  const stop = () => void Promise.all([stack.close(), removeRunningStack(stack.url)]).then(() => process.exit(0))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
} catch (error) {
  if (!(error instanceof ConfigError || error instanceof PortInUseError)) throw error
  console.error(error.message)
  process.exit(1)
}
