/**
 * The second worked example of the README: a team chat. Rooms belong to teams, and a user's teams come from the
 * membership claim of their app JWT; every user has a mentions inbox only servers publish to; announcements are public,
 * read-only for browsers, and published by admins (and servers) only.
 */
import { defineChannelPolicy, type Zod } from '../../src/policy/index.ts'

const id = (z: Zod) => z.string().regex(/^[A-Za-z0-9_-]{1,64}$/)
const sentAt = (z: Zod) => z.iso.datetime({ offset: true })

export const teamChat = defineChannelPolicy({
  kinds: {
    room: {
      pattern: 'team:{teamId}:{roomId}',
      member: 'teamId',
      browser: ['history', 'presence', 'subscribe'],
      publishers: ['members', 'admins', 'server'],
      events: {
        message: {
          data: (z) =>
            z.strictObject({ teamId: id(z), roomId: id(z), authorId: z.string().min(1).max(256), text: z.string().min(1).max(4000), sentAt: sentAt(z) }),
          ids: { teamId: 'teamId', roomId: 'roomId' },
        },
        reaction: {
          data: (z) => z.strictObject({ messageId: id(z), emoji: z.string().min(1).max(16), authorId: z.string().min(1).max(256) }),
        },
      },
    },
    mentions: {
      pattern: 'mentions:{userId}',
      owner: 'userId',
      browser: ['history', 'subscribe'],
      publishers: ['server'],
      events: {
        mention: { data: (z) => z.strictObject({ teamId: id(z), roomId: id(z), messageId: id(z), by: z.string().min(1).max(256) }) },
      },
    },
    announcements: {
      pattern: 'announcements',
      browser: ['history', 'subscribe'],
      publishers: ['admins', 'server'],
      events: {
        announcement: { data: (z) => z.strictObject({ title: z.string().min(1).max(200), body: z.string().min(1).max(4000), sentAt: sentAt(z) }) },
      },
    },
  },
})

export type TeamChat = typeof teamChat.declaration
