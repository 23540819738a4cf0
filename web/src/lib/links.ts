/** In-app paths taken from untrusted places (query strings, notifications), checked before navigating. */

/** A path on this origin: one leading slash, not `//host` or `/\host` (browsers read both as another host). */
const isLocalPath = (candidate: string): boolean => /^\/(?![/\\])/.test(candidate);

/** Where a notification's action URL should take the user inside the app. */
export function notificationTarget(actionUrl: string | null | undefined): string | null {
  if (!actionUrl) return null;
  // Older notifications point at the API result; open that run in the editor instead.
  const apiResult = /^\/api\/v1\/executions\/([^/?#]+)\/result$/.exec(actionUrl);
  if (apiResult?.[1]) return `/editor?execution=${apiResult[1]}`;
  return isLocalPath(actionUrl) && !actionUrl.startsWith('/api/') ? actionUrl : null;
}

/** The page to return to after sign-in; never another origin, never back to the auth pages. */
export function safeReturnPath(candidate: string | null): string | null {
  if (!candidate || !isLocalPath(candidate)) return null;
  if (/^\/(login|register)(?:[/?#]|$)/.test(candidate)) return null;
  return candidate;
}
