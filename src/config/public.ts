/**
 * The package's `./config`: reading and checking the environment as the doors do, for a site that builds its own
 * (`parseConfig` and `checkEnv` at start, `loadConfig` at the first request on serverless hosts), with the readers and
 * limits of `./index.ts`.
 */
export { checkEnv, parseAblyEnv } from './check.ts'
export * from './index.ts'
export { loadConfig } from './load.ts'
export { parseConfig } from './parse.ts'
