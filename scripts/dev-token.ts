/** `npm run dev:token -- --user <id> [--role <role>] [--ttl <seconds>]`: mints an app JWT for local use. */
import { parseArgs } from 'node:util'
import { isValidId } from '../src/channels/index.ts'
import { loadDevSecrets } from '../src/local/dev-secrets.ts'
import { mintAppToken } from '../src/local/mint-app-token.ts'

const { values } = parseArgs({ options: { user: { type: 'string', default: 'alice' }, role: { type: 'string', default: 'user' }, ttl: { type: 'string', default: '3600' } } })
const ttlSec = Number(values.ttl)
if (!isValidId(values.user) || !Number.isInteger(ttlSec) || ttlSec <= 0) {
  console.error('Usage: npm run dev:token -- --user <id: letters, digits, _ or -> [--role <role>] [--ttl <seconds>]')
  process.exit(2)
}
// The same secret `npm start` uses: JWT_SECRET when set, else the generated one in .local/.
const secret = process.env.JWT_SECRET || (await loadDevSecrets()).jwtSecret
console.log(await mintAppToken(secret, { userId: values.user, role: values.role, ttlSec }))
