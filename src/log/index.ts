/** Structured logging: one JSON object per line, with secrets scrubbed before anything is written. */

export type LogEntry = Record<string, unknown>
/** Where log entries go; injected so tests can capture them and hosts can route them. */
export type Logger = (entry: LogEntry) => void

const JWT_LIKE = /eyJ[\w-]{2,}\.[\w-]{2,}\.[\w-]*/g
const URL_CREDENTIALS = /\/\/[^/\s:@]+:[^@\s/]+@/g
const ABLY_KEY_LIKE = /\b[\w-]+\.[\w-]+:[\w+/=-]{16,}/g

/** Removes anything shaped like a token, an API key or URL credentials from a string. */
function scrub(text: string): string {
  return text.replace(JWT_LIKE, '[jwt]').replace(URL_CREDENTIALS, '//[credentials]@').replace(ABLY_KEY_LIKE, '[key]')
}

/** Writes each entry as one JSON line on stdout. */
export const jsonLineLogger: Logger = (entry) => {
  console.log(scrub(JSON.stringify({ time: new Date().toISOString(), ...entry })))
}

/** Discards entries (tests that do not look at logs). */
export const silentLogger: Logger = () => {}

/** A short, scrubbed description of an unknown thrown value, for the log. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return scrub(`${error.name}: ${error.message}`).slice(0, 500)
  return scrub(String(error)).slice(0, 500)
}
