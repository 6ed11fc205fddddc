/** JSON and MessagePack encoding for realtime frames and REST bodies. */
import { Decoder, Encoder } from '@msgpack/msgpack'
import { HubError } from './errors.ts'

export type Format = 'json' | 'msgpack'

export const CONTENT_TYPES: Record<Format, string> = {
  json: 'application/json',
  msgpack: 'application/x-msgpack',
}

const encoder = new Encoder({ ignoreUndefined: true })
const decoder = new Decoder()
const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Encodes a value; JSON gives text, MessagePack gives bytes. Binary values must already be transcoded for JSON. */
export function encode(value: unknown, format: Format): string | Uint8Array<ArrayBuffer> {
  // Encoder.encode returns a fresh copy (`bytes.slice`), so it owns a plain ArrayBuffer.
  return format === 'msgpack' ? (encoder.encode(value) as Uint8Array<ArrayBuffer>) : JSON.stringify(value)
}

/** Decodes a frame or body; anything undecodable is a 40000. */
export function decode(input: string | Uint8Array, format: Format): unknown {
  try {
    if (format === 'msgpack') {
      if (typeof input === 'string') throw new TypeError('MessagePack input must be binary')
      return decoder.decode(input)
    }
    return JSON.parse(typeof input === 'string' ? input : utf8.decode(input))
  } catch (error) {
    throw new HubError(40000, `Unable to decode ${format} input`, 400, { cause: error })
  }
}

/** The format a client asked for in an `Accept` or `Content-Type` header; JSON unless MessagePack is named. */
export function formatFromMediaType(header: string | null | undefined): Format {
  return header?.includes(CONTENT_TYPES.msgpack) ? 'msgpack' : 'json'
}

/** Base64 text of bytes. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** Bytes of base64 text; rejects anything that is not base64. */
export function fromBase64(text: string): Uint8Array {
  const compact = text.replace(/\s+/g, '')
  if (compact.length % 4 === 1 || !BASE64.test(compact)) throw new HubError(40013, 'Invalid base64 data', 400)
  return new Uint8Array(Buffer.from(compact, 'base64'))
}
