/** Ably's error vocabulary: every failure the hub reports is a HubError carrying an Ably error code. */

/** An ErrorInfo exactly as ably-js requires it on the wire (message, code and statusCode are mandatory). */
export interface WireErrorInfo {
  message: string
  code: number
  statusCode: number
  href: string
}

/** A failure with an Ably error code; the HTTP status defaults to the code's first three digits. */
export class HubError extends Error {
  readonly code: number
  readonly statusCode: number

  constructor(code: number, message: string, statusCode = Math.floor(code / 100), options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'HubError'
    this.code = code
    this.statusCode = statusCode
  }
}

/** Returns `error` if it is a HubError, else a generic 50000 that keeps the original as `cause`. */
export function asHubError(error: unknown): HubError {
  if (error instanceof HubError) return error
  return new HubError(50000, 'Internal error', 500, { cause: error })
}

/** The wire shape of an error. */
export function toErrorInfo(error: HubError): WireErrorInfo {
  return {
    message: error.message,
    code: error.code,
    statusCode: error.statusCode,
    href: `https://help.ably.io/error/${error.code}`,
  }
}
