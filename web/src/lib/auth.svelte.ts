/** The signed-in user, as the server sees it. */
import { rememberCsrfToken, request, setUnauthorizedHandler } from './api';
import type { LoginResponse, UserResponse } from './types';

class AuthState {
  user = $state<UserResponse | null>(null);
  /** False until the first /auth/me answer, so guards do not bounce a signed-in user to /login on reload. */
  checked = $state(false);
  /** Set when a request found the session gone; the login page says so. */
  expired = $state(false);
  /** Set by an explicit sign-out, so the guard does not offer to return to the page the user just left. */
  signedOut = $state(false);
}

export const auth = new AuthState();

setUnauthorizedHandler(() => {
  if (auth.user) auth.expired = true;
  auth.user = null;
  rememberCsrfToken(null);
});

export async function loadSession(): Promise<void> {
  try {
    auth.user = await request<UserResponse>('/auth/me', { sessionRequired: false });
  } catch {
    auth.user = null;
  } finally {
    auth.checked = true;
  }
}

export async function login(username: string, password: string): Promise<void> {
  const response = await request<LoginResponse>('/auth/login', {
    method: 'POST',
    form: { username, password },
    sessionRequired: false,
  });
  rememberCsrfToken(response.csrf_token);
  auth.expired = false;
  auth.signedOut = false;
  try {
    auth.user = await request<UserResponse>('/auth/me', { sessionRequired: false });
  } catch {
    auth.user = { user_id: '', username: response.username, email: '', role: response.role };
  }
}

export async function register(username: string, email: string, password: string): Promise<UserResponse> {
  return request<UserResponse>('/auth/register', {
    method: 'POST',
    json: { username, email, password },
    sessionRequired: false,
  });
}

export async function logout(): Promise<void> {
  try {
    await request('/auth/logout', { method: 'POST', sessionRequired: false });
  } finally {
    auth.signedOut = true;
    auth.user = null;
    auth.expired = false;
    rememberCsrfToken(null);
  }
}
