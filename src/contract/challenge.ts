/**
 * The `WWW-Authenticate` challenge of a refused app JWT (RFC 6750): `error="invalid_token"` and an
 * `error_description` that tells an expired token from any other failure, and nothing more. No jose here, so the
 * browser client can read it too.
 */

const TOKEN_EXPIRED = 'The access token expired'
const TOKEN_INVALID = 'The access token is missing or invalid'

export const wwwAuthenticate = (expired: boolean) => `Bearer error="invalid_token", error_description="${expired ? TOKEN_EXPIRED : TOKEN_INVALID}"`

/** True when a refusal's `WWW-Authenticate` says the app JWT expired. */
export const saysExpired = (challenge: string | null | undefined) => challenge?.includes(`error_description="${TOKEN_EXPIRED}"`) === true
