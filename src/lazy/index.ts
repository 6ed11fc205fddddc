/**
 * What the app loads on first use (a module only some requests need, a client built on the first call): one helper,
 * so that each such load is shared by concurrent first calls and a failed one is retried by the next call instead of
 * failing every later request of the isolate.
 */

/** `load`'s result, loaded on the first call and kept; a rejection is forgotten, so the next call loads again. */
export function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined
  return () => {
    if (loading === undefined) {
      const attempt = load()
      loading = attempt
      attempt.catch(() => {
        if (loading === attempt) loading = undefined
      })
    }
    return loading
  }
}
