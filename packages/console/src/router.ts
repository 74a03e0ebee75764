/** The console's own routes under /console/ (the server answers index.html for each, so a reload keeps the page). */
import { useEffect, useState } from 'react';

const BASE = '/console';

export type Route =
  | { page: 'services' }
  | { page: 'watch'; botId?: string }
  | { page: 'rules'; botId: string; tab: 'edit' | 'test' | 'ship' };

export function parseRoute(pathname: string): Route {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  const parts = rest.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'rules' && parts[1]) {
    const tab = parts[2] === 'test' || parts[2] === 'ship' ? parts[2] : 'edit';
    return { page: 'rules', botId: parts[1], tab };
  }
  if (parts[0] === 'watch') return parts[1] ? { page: 'watch', botId: parts[1] } : { page: 'watch' };
  return { page: 'services' };
}

export function hrefOf(route: Route): string {
  switch (route.page) {
    case 'services':
      return `${BASE}/`;
    case 'watch':
      return `${BASE}/watch${route.botId ? `/${encodeURIComponent(route.botId)}` : ''}`;
    case 'rules':
      return `${BASE}/rules/${encodeURIComponent(route.botId)}${route.tab === 'edit' ? '' : `/${route.tab}`}`;
  }
}

export function navigate(route: Route): void {
  window.history.pushState(null, '', hrefOf(route));
  window.dispatchEvent(new PopStateEvent('popstate'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.pathname));
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location.pathname));
    window.addEventListener('popstate', update);
    return () => window.removeEventListener('popstate', update);
  }, []);
  return route;
}
