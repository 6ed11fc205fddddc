/** Whether a verified caller holds one of the admin roles (`ABLY_ADMIN_ROLES`). */
import type { Caller } from './caller.ts'

export function isAdmin(caller: Caller | undefined, adminRoles: readonly string[]): boolean {
  return caller !== undefined && caller.roles.some((role) => adminRoles.includes(role))
}
