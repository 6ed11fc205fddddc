/** One error vocabulary: every failure the API reports has a stable `code` and one HTTP status. */

/** Stable error codes, each with its HTTP status. Clients switch on `code`, never on the message. */
export const errorStatus = {
  invalid_request: 400,
  invalid_json: 400,
  invalid_channel: 400,
  invalid_event: 400,
  invalid_payload: 400,
  invalid_token: 401,
  forbidden: 403,
  signed_out: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  idempotency_conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_mismatch: 422,
  rate_limited: 429,
  internal_error: 500,
  publish_rejected: 502,
  store_unavailable: 503,
  revocation_unavailable: 503,
  ably_unavailable: 503,
  auth_keys_unavailable: 503,
  deadline_exceeded: 504,
} as const

export type ErrorCode = keyof typeof errorStatus
export type ErrorStatus = (typeof errorStatus)[ErrorCode]

/** Every code, in the table's order (for schemas and documentation). */
export const errorCodes = Object.keys(errorStatus) as [ErrorCode, ...ErrorCode[]]

/**
 * The code for a bare HTTP status, as Hono's own middleware or an `HTTPException` raises it: one generic code per
 * status. A status not listed is `internal_error` from 500 up and `invalid_request` below.
 */
const codeOfStatus: Readonly<Partial<Record<number, ErrorCode>>> = {
  400: 'invalid_request',
  401: 'invalid_token',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  500: 'internal_error',
  504: 'deadline_exceeded',
}

/** The message a client sees when the thrower gave none: short, generic, never a reason that helps an attacker. */
const defaultMessages: Record<ErrorCode, string> = {
  invalid_request: 'The request is not valid.',
  invalid_json: 'The request body is not valid JSON.',
  invalid_channel: 'The channel name is not valid.',
  invalid_event: 'The event name is not allowed on this channel.',
  invalid_payload: 'The message data does not match the event schema.',
  invalid_token: 'The access token is missing, invalid or expired.',
  forbidden: 'You are not allowed to access this resource.',
  signed_out: 'The app session is missing, invalid or expired. Sign in again.',
  not_found: 'Not found.',
  method_not_allowed: 'Method not allowed.',
  request_timeout: 'The request body did not arrive in time.',
  idempotency_conflict: 'A request with this idempotency key is still in progress.',
  payload_too_large: 'The request body is too large.',
  unsupported_media_type: 'The request body must be application/json.',
  idempotency_mismatch: 'This idempotency key was already used with a different request body.',
  rate_limited: 'Too many requests. Retry later.',
  internal_error: 'Internal error.',
  publish_rejected: 'The realtime service refused the message. It was stored as failed and will not be retried.',
  store_unavailable: 'The message store is unavailable. Retry later.',
  revocation_unavailable: 'The revocation could not be completed. Retry it; until it succeeds, do not treat the session as logged out everywhere.',
  ably_unavailable: 'The realtime service did not answer. Retry later.',
  auth_keys_unavailable: "The identity provider's signing keys could not be fetched. Retry later.",
  deadline_exceeded: 'The request took too long to complete.',
}

export interface AppErrorOptions {
  /** What the client reads in `error`; the code's generic message when absent. */
  message?: string
  /** The underlying error, kept for the log and never rendered. */
  cause?: unknown
  /** Extra response headers, e.g. `Retry-After` or `WWW-Authenticate`. */
  headers?: Record<string, string>
  /** Structured details safe to show the client (e.g. which field failed). */
  details?: unknown
  /** A reason for the log only (never sent to the client). */
  reason?: string
}

/** The one error type handlers throw; `onError` renders it as `{ error, code, requestId, details? }`. */
export class AppError extends Error {
  override readonly name = 'AppError'
  readonly status: ErrorStatus
  readonly headers: Record<string, string>
  readonly details: unknown
  readonly reason: string | undefined

  constructor(
    readonly code: ErrorCode,
    { message, cause, headers = {}, details, reason }: AppErrorOptions = {},
  ) {
    super(message ?? defaultMessages[code], { cause })
    this.status = errorStatus[code]
    this.headers = headers
    this.details = details
    this.reason = reason
  }
}

/** The error code for a bare HTTP status (from Hono's own middleware, e.g. the body limit). */
export function codeForStatus(status: number): ErrorCode {
  return codeOfStatus[status] ?? (status >= 500 ? 'internal_error' : 'invalid_request')
}
