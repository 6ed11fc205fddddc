/**
 * The user-id segment of channel names (re-exported by the caller contract, src/auth/caller.ts). No jose here and
 * nothing from src/auth, so the browser client builds the same names.
 *
 * The segment encoding (one function, {@link channelSegment}), injective and at most 64 characters of `[A-Za-z0-9_~-]`:
 *
 *   plain     an id of `[A-Za-z0-9_-]{1,64}` is its own segment (self-signed ids keep their channel names)
 *   `~` + b   base64url (no padding) of the id's UTF-8 bytes, when the id is not plain, holds no `@` and the result
 *             fits in 64 characters (ids of up to 47 bytes, e.g. Auth0's `auth0|64f1…`); reversible
 *   `~~` + h  base64url of SHA-256 of the id's UTF-8 bytes (43 characters): longer ids (Firebase's 128-character
 *             uids) and every e-mail-like id (holding `@`), so an address never appears in a channel name, where
 *             Ably's logs and stats would show it
 *
 * The three forms cannot collide: plain segments hold no `~`, and the base64url alphabet holds no `~`, so `~` then a
 * letter and `~~` are told apart by their first two characters.
 */
import { sha256 } from './sha256.ts'

/** The longest accepted user id, in UTF-16 code units (Firebase uids reach 128; Ably clientIds have no lower cap). */
const MAX_ID_LENGTH = 256

/** A segment's own alphabet and bound: what a channel parser accepts where a user's segment goes. */
export const SEGMENT_PATTERN = /^(?:[A-Za-z0-9_-]{1,64}|~[A-Za-z0-9_-]{1,63}|~~[A-Za-z0-9_-]{43})$/

const PLAIN = /^[A-Za-z0-9_-]{1,64}$/
/** C0 and C1 control characters and DEL; lone surrogates are refused separately (they have no UTF-8 form). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find them
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/**
 * Whether `value` is an id the product accepts from a verified token: a string of 1 to {@link MAX_ID_LENGTH}
 * characters, well-formed Unicode, no control characters, and not Ably's wildcard clientId `*`.
 */
export function isAcceptedId(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= MAX_ID_LENGTH && value !== '*' && !CONTROL.test(value) && !LONE_SURROGATE.test(value)
}

/** Turns any accepted id into a safe channel segment: bounded, no ':' '*' '[' ']' ',' whitespace, control or non-ASCII. */
export function channelSegment(id: string): string {
  if (!isAcceptedId(id)) throw new TypeError(`Not an accepted id: ${JSON.stringify(String(id).slice(0, 80))}`)
  if (PLAIN.test(id)) return id
  const bytes = new TextEncoder().encode(id)
  if (!id.includes('@') && bytes.length <= 47) return `~${base64url(bytes)}`
  return `~~${base64url(sha256(bytes))}`
}

/** The id a reversible segment stands for; `undefined` for a hashed segment (by design) or a malformed one. */
export function segmentId(segment: string): string | undefined {
  if (!SEGMENT_PATTERN.test(segment) || segment.startsWith('~~')) return undefined
  if (!segment.startsWith('~')) return segment
  try {
    const id = new TextDecoder('utf-8', { fatal: true }).decode(fromBase64url(segment.slice(1)))
    return isAcceptedId(id) && channelSegment(id) === segment ? id : undefined
  } catch {
    return undefined
  }
}

function base64url(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')
}

function fromBase64url(text: string): Uint8Array {
  const binary = atob(text.replaceAll('-', '+').replaceAll('_', '/'))
  return Uint8Array.from(binary, (char) => char.charCodeAt(0))
}
