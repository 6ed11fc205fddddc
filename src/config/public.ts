/**
 * The package's `./config`: reading and checking the environment as the doors do, for a site that builds its own
 * (`parseConfig` and `checkEnv` at start, `loadConfig` at the first request on serverless hosts).
 */
export { checkEnv, parseAblyEnv } from './check.ts'
export {
  ALL_API_SETTINGS,
  ConfigError,
  type AblyKey,
  type ApiSetting,
  type Config,
  type ConfigProblem,
  type Env,
  type JwtConfig,
  type KeysConfig,
  type Provider,
} from './index.ts'
export { loadConfig } from './load.ts'
export { parseConfig } from './parse.ts'
