/**
 * Checking an environment synchronously, with every message at hand: for hosts that check at start (`npm start`,
 * the Node functions, the server helpers). Edge doors check with `loadConfig` (`./load.ts`), which imports the
 * messages only when a variable is bad.
 */
import { type Config, type ConfigProblems, type Env, readAbly, throwProblems } from './index.ts'
import { configMessages } from './messages.ts'

/**
 * Runs the readers of one pass and returns their result, or throws one `ConfigError` with every problem any of them
 * found. A reader returns `undefined` only after adding a problem.
 */
export function checkEnv<T>(read: (problems: ConfigProblems) => T | undefined): T {
  const problems: ConfigProblems = []
  const value = read(problems)
  if (problems.length > 0 || value === undefined) throwProblems(problems, configMessages)
  return value as T
}

/**
 * Only the Ably part of the environment (`ABLY_API_KEY`, `ABLY_REST_URL`), for a Node server that publishes with the
 * key but verifies no logins; throws one `ConfigError` like `parseConfig`.
 */
export function parseAblyEnv(env: Env): Config['ably'] {
  return checkEnv((problems) => readAbly(env, problems))
}
