/** The admin user operations under /admin/users. */
import { request } from './api';
import type { AdminUser, AdminUserOverview, AdminUserPage, DeletedUser, UserRole } from './types';

const path = (userId: string, action = '') => `/admin/users/${encodeURIComponent(userId)}${action}`;

export interface NewUser {
  username: string;
  email: string;
  password: string;
  role: UserRole;
  is_active: boolean;
}

export type UserChanges = Partial<Omit<NewUser, 'password'>> & { password?: string };

export const listUsers = (query: { limit: number; offset: number; search?: string; role?: string }) =>
  request<AdminUserPage>('/admin/users/', { query });

export const createUser = (user: NewUser) =>
  request<AdminUser>('/admin/users/', { method: 'POST', json: user });

export const updateUser = (userId: string, changes: UserChanges) =>
  request<AdminUser>(path(userId), { method: 'PUT', json: changes });

export const deleteUser = (userId: string, cascade: boolean) =>
  request<DeletedUser>(path(userId), { method: 'DELETE', query: { cascade: String(cascade) } });

export const userOverview = (userId: string) => request<AdminUserOverview>(path(userId, '/overview'));

export const resetPassword = (userId: string, newPassword: string) =>
  request<{ message: string }>(path(userId, '/reset-password'), {
    method: 'POST',
    json: { new_password: newPassword },
  });

export const unlockUser = (userId: string) =>
  request<{ user_id: string; message: string }>(path(userId, '/unlock'), { method: 'POST' });
