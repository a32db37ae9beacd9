import { useMemo, useState } from 'react';
import { get, Page, qs, TimeSeries, Webhook } from '../api';
import { AdminOnly } from '../auth';
import { Sparkline } from '../chart';
import { ago, percent } from '../format';
import { useLoad } from '../hooks';
import { Link, navigate } from '../router';
import { Card, EnabledBadge, ErrorBox, Loading, Pager } from '../ui';

/** Rows per page: each row asks for its own 24 h series (a cheap, per-webhook read), so not all at once. */
const PAGE = 50;

type Filter = 'all' | 'enabled' | 'disabled' | 'failing';

export function WebhooksPage() {
  const [search, setSearch] = useState('');
  const [filter, setFilter] = useState<Filter>('all');
  const [offset, setOffset] = useState(0);
  const list = useLoad(() => get<Page<Webhook>>(`/webhooks${qs({ limit: 500 })}`), [], 10000);
  const shown = useMemo(() => {
    const q = search.trim().toLowerCase();
    return (list.data?.items ?? []).filter((w) => {
      if (q && !w.name.toLowerCase().includes(q) && !w.url.toLowerCase().includes(q)) return false;
      if (filter === 'enabled') return w.enabled;
      if (filter === 'disabled') return !w.enabled;
      if (filter === 'failing') return w.enabled && w.consecutive_failures > 0;
      return true;
    });
  }, [list.data, search, filter]);
  return (
    <div className="page">
      <div className="page-head">
        <h1>Webhooks</h1>
        <AdminOnly>
          <button type="button" className="primary" onClick={() => navigate('/webhooks/new')}>
            New webhook
          </button>
        </AdminOnly>
      </div>
      <div className="toolbar">
        <input
          type="search"
          placeholder="Search by name or URL"
          aria-label="Search by name or URL"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
        <select
          aria-label="Filter"
          value={filter}
          onChange={(e) => {
            setFilter(e.target.value as Filter);
            setOffset(0);
          }}
        >
          <option value="all">All</option>
          <option value="enabled">Enabled</option>
          <option value="disabled">Disabled</option>
          <option value="failing">Failing</option>
        </select>
      </div>
      <ErrorBox error={list.error} />
      <Card>
        {!list.data ? (
          <Loading />
        ) : shown.length === 0 ? (
          <p className="muted">{list.data.items.length ? 'No webhook matches.' : 'No webhooks yet.'}</p>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="webhooks-table">
              <thead>
                <tr>
                  <th>Name / URL</th>
                  <th className="hide-narrow">Events</th>
                  <th>State</th>
                  <th>Health (24 h)</th>
                  <th className="hide-narrow">Last delivery</th>
                  <th className="hide-narrow">Last error</th>
                </tr>
              </thead>
              <tbody>
                {shown.slice(offset, offset + PAGE).map((w) => (
                  <WebhookRow key={w.id} webhook={w} />
                ))}
              </tbody>
            </table>
            <Pager total={shown.length} limit={PAGE} offset={offset} onOffset={setOffset} />
          </div>
        )}
      </Card>
    </div>
  );
}

function WebhookRow({ webhook: w }: { webhook: Webhook }) {
  const ts = useLoad(() => get<TimeSeries>(`/webhooks/${w.id}/stats/timeseries${qs({ hours: 24, bucket: '1h' })}`), [w.id, w.last_triggered_at]);
  return (
    <tr>
      <td>
        <Link to={`/webhooks/${w.id}`}>{w.name}</Link>
        <div className="muted small ellipsis">{w.url}</div>
      </td>
      <td className="hide-narrow">
        <div className="tags">
          {w.events.slice(0, 4).map((e) => (
            <span key={e} className="tag">
              {e}
            </span>
          ))}
          {w.events.length > 4 && <span className="tag">+{w.events.length - 4}</span>}
        </div>
      </td>
      <td>
        <EnabledBadge enabled={w.enabled} failing={w.consecutive_failures > 0} />
      </td>
      <td className="health">
        {ts.data ? (
          <>
            <span className="figure">{percent(ts.data.totals.success_rate)}</span>
            <Sparkline buckets={ts.data.buckets} />
          </>
        ) : (
          <span className="muted">…</span>
        )}
      </td>
      <td className="hide-narrow">{ago(w.last_triggered_at)}</td>
      <td className="hide-narrow wrap small">{w.last_error ?? '—'}</td>
    </tr>
  );
}
