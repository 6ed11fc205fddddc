/** Whether a verified caller holds one of the admin roles (`ABLY_ADMIN_ROLES`). */
import type { AppUser } from './app-token.ts'

export function isAdmin(user: AppUser | undefined, adminRoles: readonly string[]): boolean {
  return user?.role !== undefined && adminRoles.includes(user.role)
}
