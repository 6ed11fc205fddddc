/**
 * The app for hosts that check their environment at start, where a person is watching (`hosts/deno-serve.ts`, the
 * bench): the config read synchronously with every JWT reader (`parseConfig`). Apart from `./handlers.ts`, so the
 * serverless doors' bundles, which read it lazily (`loadConfig`), never carry the provider reader statically.
 */
import { createApp } from '../app.ts'
import { ALL_API_SETTINGS, type Env } from '../config/index.ts'
import { parseConfig } from '../config/parse.ts'
import type { ApiOptions } from './handlers.ts'

/** The app for `env`; throws the `ConfigError` naming every bad variable, so a host fails closed at start. */
export function appFromEnv(env: Env, { settings = ALL_API_SETTINGS, ...deps }: ApiOptions) {
  return createApp(parseConfig(env, settings), deps)
}
