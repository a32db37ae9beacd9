import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { AuthProvider, useAuth } from './auth';
import { AccountPage } from './pages/account';
import { EventDetailPage, EventsPage } from './pages/events';
import { LoginPage } from './pages/login';
import { AttemptDetailPage, LogsPage } from './pages/logs';
import { OverviewPage } from './pages/overview';
import { UsersPage } from './pages/users';
import { WebhookDetailPage } from './pages/webhook-detail';
import { WebhookFormPage } from './pages/webhook-form';
import { WebhooksPage } from './pages/webhooks';
import { Link, match, RouterProvider, usePath } from './router';
import './styles.css';

const NAV = [
  { to: '/', label: 'Overview', exact: true },
  { to: '/webhooks', label: 'Webhooks' },
  { to: '/logs', label: 'Attempt log' },
  { to: '/events', label: 'Events' },
  { to: '/users', label: 'Users', admin: true },
];

function Routes() {
  const { pathname } = usePath();
  const m = (p: string) => match(p, pathname);
  let params: Record<string, string> | null;
  if (pathname === '/' || pathname === '') return <OverviewPage />;
  if (m('/webhooks')) return <WebhooksPage />;
  if (m('/webhooks/new')) return <WebhookFormPage />;
  if ((params = m('/webhooks/:id/edit'))) return <WebhookFormPage id={params.id} />;
  if ((params = m('/webhooks/:id/logs/:logId'))) return <AttemptDetailPage webhookId={params.id} logId={params.logId} />;
  if ((params = m('/webhooks/:id'))) return <WebhookDetailPage id={params.id} />;
  if (m('/logs')) return <LogsPage />;
  if (m('/events')) return <EventsPage />;
  if ((params = m('/events/:id'))) return <EventDetailPage id={params.id} />;
  if (m('/users')) return <UsersPage />;
  if (m('/account')) return <AccountPage />;
  return (
    <div className="card">
      <h1>Not found</h1>
      <p>
        Nothing at {pathname}. <Link to="/">Back to the overview</Link>
      </p>
    </div>
  );
}

function Shell() {
  const { me, checking, signOut, isAdmin } = useAuth();
  const { pathname } = usePath();
  const [menuOpen, setMenuOpen] = useState(false);
  if (checking) return <p className="muted center">Loading…</p>;
  if (!me) return <LoginPage />;
  const active = (to: string, exact?: boolean) => (exact ? pathname === to : pathname === to || pathname.startsWith(`${to}/`));
  return (
    <div className="shell">
      <header className="topbar">
        <Link to="/" className="brand">
          ATLAS Webhooks
        </Link>
        <button type="button" className="menu-toggle" aria-expanded={menuOpen} aria-label="Menu" onClick={() => setMenuOpen((o) => !o)}>
          ☰
        </button>
        <nav className={menuOpen ? 'open' : ''} onClick={() => setMenuOpen(false)}>
          {NAV.filter((n) => !n.admin || isAdmin).map((n) => (
            <Link key={n.to} to={n.to} className={active(n.to, n.exact) ? 'active' : ''}>
              {n.label}
            </Link>
          ))}
          <a href="/docs" className="external">
            API docs
          </a>
        </nav>
        <div className="who">
          <Link to="/account" title="Account and password">
            <span data-testid="who">{me.username}</span> <span className={`badge badge-role`}>{me.role}</span>
          </Link>
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main>
        <Routes />
      </main>
    </div>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <RouterProvider>
      <AuthProvider>
        <Shell />
      </AuthProvider>
    </RouterProvider>
  </StrictMode>,
);
