import { lazy, Suspense, useEffect, useState, type MouseEvent, type ReactNode } from 'react';
import { currentSession, signOut, type SessionUser } from './api';
import { hrefOf, navigate, useRoute, type Route } from './router';
import { ServicesPage } from './ServicesPage';
import { SignIn } from './SignIn';
import { WatchPage } from './WatchPage';

// The editor (CodeMirror, YAML) loads when a rule set is opened, not with the sign-in page.
const RuleSetPage = lazy(() => import('./rules/RuleSetPage').then((m) => ({ default: m.RuleSetPage })));

export function App() {
  const [user, setUser] = useState<SessionUser | null | undefined>(undefined);
  const route = useRoute();
  useEffect(() => {
    currentSession().then(
      (u) => setUser(u ?? null),
      () => setUser(null),
    );
  }, []);
  if (user === undefined) return <p className="loading">Loading…</p>;
  if (user === null) return <SignIn onSignedIn={setUser} />;
  return (
    <>
      <header className="top">
        <a className="skip" href="#main">
          Skip to content
        </a>
        <span className="brand">Hookbot</span>
        <nav aria-label="Main">
          <NavLink route={{ page: 'services' }} current={route.page === 'services' || route.page === 'rules'}>
            Services
          </NavLink>
          <NavLink route={{ page: 'watch' }} current={route.page === 'watch'}>
            Watch
          </NavLink>
        </nav>
        <span className="who">
          {user.name ?? user.email} · {user.role} · {user.projectName ?? user.projectId}
        </span>
        <button
          type="button"
          className="link"
          onClick={() => {
            void signOut().finally(() => setUser(null));
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {route.page === 'services' && <ServicesPage />}
        {route.page === 'rules' && (
          <Suspense fallback={<p className="loading">Loading the editor…</p>}>
            <RuleSetPage botId={route.botId} tab={route.tab} user={user} />
          </Suspense>
        )}
        {route.page === 'watch' && <WatchPage botId={route.botId} />}
      </main>
    </>
  );
}

export function NavLink({ route, current, children }: { route: Route; current?: boolean; children: ReactNode }) {
  const onClick = (e: MouseEvent) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    navigate(route);
  };
  return (
    <a href={hrefOf(route)} onClick={onClick} aria-current={current ? 'page' : undefined}>
      {children}
    </a>
  );
}
