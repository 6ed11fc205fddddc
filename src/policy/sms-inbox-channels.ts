/**
 * The SMS inbox's channels (`./sms-inbox.ts` adds each kind's events), and their credential facet: the token and
 * revoke routes' default. Its own module, so the token edge entry's module graph holds neither the policy's parser
 * and rules nor its events.
 */
import { credentialsOf } from './capability.ts'
import type { ChannelsDeclaration } from './types.ts'

/** The SMS inbox's channels: who owns them and what a browser credential may do on them. */
export const channels = {
  kinds: {
    sms: { pattern: 'sms:{userId}:{contactId}', owner: 'userId', browser: ['history', 'subscribe'], publishers: ['owner', 'admins', 'server'] },
    contacts: { pattern: 'contacts:{userId}', owner: 'userId', browser: ['history', 'subscribe'], publishers: ['owner', 'admins', 'server'] },
    notifications: {
      pattern: 'notifications:{userId}',
      owner: 'userId',
      browser: ['history', 'presence', 'subscribe'],
      publishers: ['owner', 'admins', 'server'],
    },
  },
} as const satisfies ChannelsDeclaration

/** The SMS inbox's credential facet (the capability alone), derived unchecked: the suite checks the whole policy. */
export const smsInboxCredentials = /* @__PURE__ */ credentialsOf(channels)
