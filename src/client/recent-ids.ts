/** A bounded set of recently seen message ids: the oldest is forgotten once `limit` is reached. */
export interface RecentIds {
  /** Remembers `id`; false when it was already remembered (a duplicate). */
  add(id: string): boolean
  has(id: string): boolean
  readonly size: number
}

export function createRecentIds(limit: number): RecentIds {
  if (!Number.isInteger(limit) || limit < 1) throw new TypeError('createRecentIds: limit must be a positive integer')
  // A Set iterates in insertion order, so its first entry is the oldest.
  const ids = new Set<string>()
  return {
    add(id) {
      if (ids.has(id)) return false
      ids.add(id)
      if (ids.size > limit) ids.delete(ids.values().next().value as string)
      return true
    },
    has: (id) => ids.has(id),
    get size() {
      return ids.size
    },
  }
}
