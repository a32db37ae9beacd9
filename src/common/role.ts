/** The roles a user can have: admins may write, viewers read. */
export type Role = 'admin' | 'viewer';
export const ROLES: Role[] = ['admin', 'viewer'];
