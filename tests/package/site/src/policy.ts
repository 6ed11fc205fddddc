/** The site's own channel policy: a team board, checked when loaded and typed from its declaration. */
import { defineChannelPolicy, type Zod } from 'ably-netlify-integration/policy'

const id = (z: Zod) => z.string().regex(/^[A-Za-z0-9_-]{1,64}$/)

export const board = defineChannelPolicy({
  kinds: {
    board: {
      pattern: 'board:{teamId}',
      member: 'teamId',
      browser: ['history', 'subscribe'],
      publishers: ['members', 'server'],
      events: {
        card: { data: (z) => z.strictObject({ teamId: id(z), title: z.string().min(1).max(200) }), ids: { teamId: 'teamId' } },
      },
    },
  },
})
