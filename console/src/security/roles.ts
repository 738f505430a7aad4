/**
 * Roles and what they may do.
 *
 * @module
 */

/** The console's roles, from most to least powerful. */
export const ROLES = ['admin', 'operator', 'viewer'] as const;

/**
 * - `admin`: everything (operations, configuration edit, job and server removal).
 * - `operator`: operations (trigger, disable/enable, shutdown), no configuration edit or removal.
 * - `viewer`: read only.
 */
export type Role = (typeof ROLES)[number];

/** What a request does: read, operate jobs, or change/remove configuration. */
export type Permission = 'read' | 'operate' | 'configure';

const GRANTS: Readonly<Record<Role, readonly Permission[]>> = {
  admin: ['read', 'operate', 'configure'],
  operator: ['read', 'operate'],
  viewer: ['read'],
};

/** Whether `role` grants `permission`. */
export function grants(role: Role, permission: Permission): boolean {
  return GRANTS[role].includes(permission);
}
