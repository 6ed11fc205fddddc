/**
 * What `npm start` prints: where everything is, a sample app JWT, and `curl` lines to copy. The sample token is
 * printed only when its secret was generated for development: one signed with the user's own JWT_SECRET would be
 * a real credential sitting in a terminal or a log.
 */
import type { LocalStack } from '../wiring/local-stack.ts'
import { DEFAULT_DEV_SECRETS_FILE } from './dev-secrets.ts'

export async function banner(stack: LocalStack): Promise<string> {
  const generated = stack.sources.secrets === 'generated'
  const token = generated ? await stack.mintAppToken('alice') : undefined
  const api = `${stack.url}/api/ably`
  const { policy } = stack.gateway
  const routes = ['token', 'stats', 'presence', 'health', 'publish', 'history', ...(stack.config.revocation.enabled ? ['revoke'] : [])]
  const message = JSON.stringify({
    channelName: 'sms:alice:c1',
    eventName: 'message',
    data: {
      contactId: 'c1',
      userId: 'alice',
      phoneNumberId: 'pn1',
      message: 'Hello from curl',
      direction: 'inbound',
      timestamp: '2026-01-01T00:00:00Z',
      from: '+15550001111',
      to: '+15550002222',
    },
  })
  return [
    '',
    'ably-netlify-integration is running',
    `  Demo     ${stack.url}/`,
    `  API      ${routes.map((route) => `${api}/${route}`).join('  ')}`,
    `  Channels ${Object.values(policy.forms).join('  ')}  (Ably namespaces to configure: ${policy.namespaces.join(', ')})`,
    stack.hubPort === undefined
      ? '  Ably     real Ably (ABLY_API_KEY is set)'
      : `  Hub      ws://localhost:${stack.hubPort}  (Ably-compatible; SDK options { endpoint: 'localhost', port: ${stack.hubPort}, tls: false })`,
    `  Store    ${stack.sources.store}${stack.sources.store === 'in-memory' ? ' (set MONGODB_URI to use MongoDB)' : ''}`,
    `  Secrets  ${stack.sources.secrets === 'generated' ? 'generated for development, kept in .local/dev-secrets.json' : 'JWT_SECRET from the environment'}`,
    '',
    ...(token
      ? ['A sample app JWT for user "alice" (valid 1 h; mint more with `npm run dev:token -- --user bob`):', '', `  export TOKEN=${token}`, '']
      : [
          'JWT_SECRET is your own, so no token is printed. Mint one in a shell with the same JWT_SECRET',
          '(dev:token checks that this stack accepts its secret, and says which one it used):',
          '',
          '  export TOKEN=$(npm run -s dev:token -- --user alice)',
          '',
        ]),
    'Try:',
    `  curl -s -X POST ${api}/token -H "Authorization: Bearer $TOKEN"`,
    `  curl -s ${api}/stats`,
    `  curl -s "${api}/stats?channelName=sms:alice:c1" -H "Authorization: Bearer $TOKEN"`,
    `  curl -s ${api}/health`,
    `  curl -s -X POST ${api}/publish -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '${message}'`,
    `  curl -s "${api}/history?channelName=sms:alice:c1" -H "Authorization: Bearer $TOKEN"`,
    '',
    // Without ABLY_REST_URL the server helpers would try Ably's cloud and queue what they accept in memory.
    ...(stack.hubPort === undefined
      ? []
      : [
          'Server helpers (src/server) and examples/subscribe.mjs reach this hub with:',
          `  export ABLY_REST_URL=http://localhost:${stack.hubPort} ABLY_HUB_PORT=${stack.hubPort} ABLY_API_KEY=$(node -p "require('./${DEFAULT_DEV_SECRETS_FILE}').ablyKey")`,
          '',
        ]),
  ].join('\n')
}
