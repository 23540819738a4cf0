/** Path routing on the History API: `route` is reactive, `navigate` pushes, same-origin links are intercepted. */

class RouteState {
  path = $state(window.location.pathname);
  search = $state(window.location.search);
  query = $derived(new URLSearchParams(this.search));
}

export const route = new RouteState();

function sync(): void {
  route.path = window.location.pathname;
  route.search = window.location.search;
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = new URL(to, window.location.origin);
  const target = url.pathname + url.search + url.hash;
  if (target === window.location.pathname + window.location.search + window.location.hash) return;
  if (options.replace) window.history.replaceState(null, '', target);
  else window.history.pushState(null, '', target);
  sync();
  if (!options.replace) window.scrollTo(0, 0);
}

/**
 * Changes the current page's query in place (no new history entry): paging and filters live in the URL,
 * so reloading or going Back keeps the view. Empty values and page 1 are left out.
 */
export function replaceQuery(changes: Record<string, string | number | null>): void {
  const params = new URLSearchParams(route.search);
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === '' || (key === 'page' && value === 1)) params.delete(key);
    else params.set(key, String(value));
  }
  const qs = params.toString();
  navigate(qs ? `${route.path}?${qs}` : route.path, { replace: true });
}

/** Turns clicks on plain same-origin `<a href>` into in-app navigation. */
function interceptLinks(event: MouseEvent): void {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const anchor = (event.target as Element | null)?.closest?.('a');
  if (!anchor || anchor.target || anchor.hasAttribute('download')) return;
  const href = anchor.getAttribute('href');
  if (!href || href.startsWith('#')) return;
  const url = new URL(anchor.href, window.location.href);
  if (url.origin !== window.location.origin || url.pathname.startsWith('/api/')) return;
  event.preventDefault();
  navigate(url.pathname + url.search + url.hash);
}

export function startRouter(): () => void {
  window.addEventListener('popstate', sync);
  document.addEventListener('click', interceptLinks);
  return () => {
    window.removeEventListener('popstate', sync);
    document.removeEventListener('click', interceptLinks);
  };
}
