// The site's local development: the API, gateway and hub of the package's local stack, as `npm start` runs them here.
import { startLocalStack } from 'ably-netlify-integration/local-stack'

const stack = await startLocalStack({ env: { ...process.env }, port: 0, hubPort: 0, secretsFile: '.local/dev-secrets.json', log: () => {} })
console.log(JSON.stringify({ ready: { url: stack.url, hubPort: stack.hubPort, alice: await stack.mintAppToken('alice') } }))
process.once('SIGTERM', () => void stack.close().then(() => process.exit(0)))
