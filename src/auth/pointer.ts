/**
 * JSON Pointers (RFC 6901) as the configuration writes them: parsed, formatted back for messages, and checked against
 * claims a user can edit. Apart from `./claims.ts` (which reads a parsed pointer in every verified token), so only the
 * provider config reader (`src/config/jwt.ts`, loaded when a provider variable is set) carries them.
 */
import type { Pointer } from './claims.ts'

/** Top-level claims a user can edit themselves (Supabase and Auth0 `user_metadata`, Clerk `unsafeMetadata`). */
const USER_EDITABLE_CLAIMS = ['user_metadata', 'raw_user_meta_data', 'unsafe_metadata', 'unsafeMetadata'] as const

/** Parses an RFC 6901 pointer (`''` is the whole document); `undefined` when malformed (a bad `~` escape, no leading `/`). */
export function parsePointer(text: string): Pointer | undefined {
  if (text === '') return []
  if (!text.startsWith('/') || /~[^01]|~$/.test(text)) return undefined
  return text
    .slice(1)
    .split('/')
    .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'))
}

/** Formats a pointer back as text, for messages. */
export function formatPointer(pointer: Pointer): string {
  return pointer.map((token) => `/${token.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('')
}

/** Whether a pointer reaches into claims the user can edit (they must never grant a role or a membership). */
export const isUserEditable = (pointer: Pointer) => pointer.some((token) => (USER_EDITABLE_CLAIMS as readonly string[]).includes(token))
