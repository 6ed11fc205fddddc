/** An HMAC-SHA256 key for `secret`, imported on first use and then reused (never per request, never at module scope). */
export function lazyHmacKey(secret: string, usage: 'sign' | 'verify'): () => Promise<CryptoKey> {
  let key: Promise<CryptoKey> | undefined
  return () => (key ??= crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [usage]))
}
