/**
 * `npm run -s dev:token -- [--user <id>] [--role <role>] [--ttl <seconds>]`: mints an app JWT for local use.
 * The token alone goes to stdout (so `$(npm run -s dev:token)` captures it); everything else goes to stderr. A bad
 * argument is one line on stderr and exit code 2, never a stack trace.
 *
 * The secret is `npm start`'s: `JWT_SECRET` when set, else the generated one in `.local/dev-secrets.json`. When a
 * running `npm start` (the one at `--url`, or at `PORT`) accepts another secret than the one this would sign with, it
 * says so and stops.
 */
import { parseArgs } from 'node:util'
import { isValidId } from '../src/channels/index.ts'
import { MAX_TOKEN_TTL_SEC, MIN_JWT_SECRET_LENGTH } from '../src/config/index.ts'
import { DEFAULT_DEV_SECRETS_FILE, loadDevSecrets, readRunningStacks, secretId, type RunningStack } from '../src/local/dev-secrets.ts'
import { mintAppToken } from '../src/local/mint-app-token.ts'

const USAGE = 'Usage: npm run -s dev:token -- [--user <id>] [--role <role>] [--ttl <seconds>] [--url <stack url>]'
const HELP = `${USAGE}

Mints an app JWT (HS256) for local use and prints only the token.
  --user <id>      the user id: 1-64 letters, digits, "_" or "-" (default alice)
  --role <role>    the role claim, at most 64 characters (default user)
  --ttl <seconds>  lifetime, a whole number from 1 to ${MAX_TOKEN_TTL_SEC} (default 3600)
  --url <url>      which running npm start the token is for, e.g. http://localhost:8898 (default: PORT's,
                   when PORT is set; else the one running)
The secret is npm start's: JWT_SECRET when set, else the generated one in ${DEFAULT_DEV_SECRETS_FILE}.`

/** One line on stderr, exit code 2. */
function fail(problem: string): never {
  console.error(`dev:token: ${problem}. ${USAGE}`)
  process.exit(2)
}

let values: { user?: string; role?: string; ttl?: string; url?: string; help?: boolean }
try {
  ;({ values } = parseArgs({
    options: { user: { type: 'string' }, role: { type: 'string' }, ttl: { type: 'string' }, url: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: false,
  }))
} catch (error) {
  // node:util's messages name the option, e.g. "Unknown option '--usr'" or "Option '--ttl <value>' argument missing";
  // the first line is the whole story ("--ttl -5" is "ambiguous": a value may not start with "-").
  const [first = ''] = (error instanceof Error ? error.message : String(error)).split('\n')
  fail(`${first.replace(/\.$/, '')}${first.includes('ambiguous') ? ' (a value may not start with "-")' : ''}`)
}
if (values.help) {
  console.log(HELP)
  process.exit(0)
}

const { user = 'alice', role = 'user', ttl = '3600' } = values
if (!isValidId(user)) fail(`--user must be 1-64 letters, digits, "_" or "-", got ${JSON.stringify(user)}`)
if (role.length === 0 || role.length > 64) fail('--role must be 1-64 characters')
if (!/^\d+$/.test(ttl) || Number(ttl) < 1 || Number(ttl) > MAX_TOKEN_TTL_SEC)
  fail(`--ttl must be a whole number of seconds from 1 to ${MAX_TOKEN_TTL_SEC}, got ${JSON.stringify(ttl)}`)

const own = process.env.JWT_SECRET
if (own !== undefined && own !== '' && own.length < MIN_JWT_SECRET_LENGTH)
  fail(`JWT_SECRET is shorter than ${MIN_JWT_SECRET_LENGTH} characters, so npm start would refuse it`)
const secret = own || (await loadDevSecrets()).jwtSecret
const source = own ? 'JWT_SECRET from the environment' : `the generated development secret in ${DEFAULT_DEV_SECRETS_FILE}`

// Which running stack the token is for: --url, else PORT's, else whichever runs (one record per API port).
const portOf = (url: string) => new URL(url).port || '80'
let wanted: string | undefined
if (values.url !== undefined) {
  if (!URL.canParse(values.url)) fail(`--url must be a URL such as http://localhost:8888, got ${JSON.stringify(values.url)}`)
  wanted = portOf(values.url)
} else if (process.env.PORT) wanted = process.env.PORT
const stacks = (await readRunningStacks()).filter((stack) => wanted === undefined || portOf(stack.url) === wanted)
const refusing = stacks.filter((stack) => stack.jwtSecretId !== secretId(secret))
if (refusing.length > 0 && stacks.length > 1) {
  console.error(
    `dev:token: npm start runs at ${stacks.map((stack) => stack.url).join(' and ')}, and ${refusing.map((stack) => stack.url).join(' and ')} would refuse a token signed with ${source}. Say which with --url <url> (or PORT).`,
  )
  process.exit(2)
}
const [running]: (RunningStack | undefined)[] = stacks
if (running && refusing.length > 0) {
  console.error(
    running.secrets === 'environment'
      ? `dev:token: npm start at ${running.url} uses its own JWT_SECRET and would refuse a token signed with ${source}. Run this with the same JWT_SECRET.`
      : `dev:token: npm start at ${running.url} uses the generated secret in ${DEFAULT_DEV_SECRETS_FILE} and would refuse a token signed with ${source}. Unset JWT_SECRET here, or restart npm start with it.`,
  )
  process.exit(2)
}
const accepting = stacks.map((stack) => stack.url).join(' and ')

console.log(await mintAppToken(secret, { userId: user, role, ttlSec: Number(ttl) }))
console.error(
  `dev:token: signed with ${source}${accepting ? `, which npm start at ${accepting} accept${stacks.length > 1 ? '' : 's'}` : ''}; valid ${ttl} s for user "${user}".`,
)
