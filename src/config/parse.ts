/**
 * The whole configuration read synchronously, with every JWT mode's reader (`./jwt.ts`): for hosts that check it at
 * start (`npm start`, `hosts/deno-serve.ts`), the Node functions and the tests. Serverless edge doors use
 * `loadConfig` (`./load.ts`) instead, which imports the provider reader only when it is needed.
 */
import { checkEnv } from './check.ts'
import { ALL_API_SETTINGS, readConfigWith, type ApiSetting, type Config, type ConfigProblems, type Env } from './index.ts'
import { readJwt } from './jwt.ts'

/**
 * Parses and checks the API's environment into a typed config, or throws one `ConfigError` naming every bad variable.
 * `settings` are the optional settings the routes read (see `ApiSetting`); the rest keep their defaults unchecked.
 */
export function parseConfig(env: Env, settings: readonly ApiSetting[] = ALL_API_SETTINGS): Config {
  return checkEnv((problems) => readConfig(env, problems, settings))
}

/** `parseConfig`'s reader, for a pass that checks other parts too. */
export function readConfig(env: Env, problems: ConfigProblems, settings: readonly ApiSetting[] = ALL_API_SETTINGS): Config | undefined {
  return readConfigWith(readJwt, env, problems, settings)
}
