/**
 * `parseConfig` for serverless doors, where the config is read at the first request: the provider reader
 * (`./jwt.ts`: presets, keys, JSON Pointer claim mapping, about 2.3 KB gzip) is imported only when a provider
 * variable is set, so an edge isolate with only `JWT_SECRET` never loads it. Both readers give the same config for
 * the same environment; `parseConfig` (sync, everything) stays for hosts that check at start.
 */
import { ALL_API_SETTINGS, readConfigWith, throwProblems, type ApiSetting, type Config, type ConfigProblems, type Env } from './index.ts'
import { needsProviderReader, readSecretOnlyJwt } from './jwt-secret.ts'

/** The checked config for `env`; rejects with the `ConfigError` naming every bad variable, as `parseConfig` throws it. */
export async function loadConfig(env: Env, settings: readonly ApiSetting[] = ALL_API_SETTINGS): Promise<Config> {
  const readJwt = needsProviderReader(env) ? (await import('./jwt.ts')).readJwt : readSecretOnlyJwt
  const problems: ConfigProblems = []
  const config = readConfigWith(readJwt, env, problems, settings)
  // The messages are prose for a person fixing the environment: loaded only when there is something to fix.
  if (problems.length > 0 || config === undefined) throwProblems(problems, (await import('./messages.ts')).configMessages)
  return config
}
