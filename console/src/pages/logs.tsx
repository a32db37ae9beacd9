import { useState } from 'react';
import { Attempt, AttemptDetail, EventType, get, Page, post, qs, Webhook } from '../api';
import { AdminOnly } from '../auth';
import { ago, dateTime, millis, pretty } from '../format';
import { useLoad } from '../hooks';
import { Link } from '../router';
import { attemptOutcome, Card, ErrorBox, KeyValues, Loading, Pager, StatusBadge } from '../ui';

const LIMIT = 25;
const OUTCOMES = ['', 'succeeded', 'failed', 'pending', 'sending', 'cancelled'];
const RANGES: Record<string, number> = { '1h': 1, '24h': 24, '7d': 168, '30d': 720 };

/** Attempts newest first, paged and filtered; one webhook's, or all webhooks' (`logs/recent`). Refreshes every 5 s on the first page. */
/** `refreshKey`: a change reloads at once (the webhook page bumps it after Send test, Recover…). */
export function AttemptLog({ webhookId, refreshKey = 0 }: { webhookId?: string; refreshKey?: number }) {
  const [status, setStatus] = useState('');
  const [eventType, setEventType] = useState('');
  const [range, setRange] = useState('24h');
  const [offset, setOffset] = useState(0);
  const types = useLoad(() => get<EventType[]>('/events/types'), []);
  const hooks = useLoad(() => (webhookId ? Promise.resolve(undefined) : get<Page<Webhook>>('/webhooks?limit=500')), [webhookId]);
  const names = new Map((hooks.data?.items ?? []).map((w) => [w.id, w.name]));
  const hours = RANGES[range];
  const since = new Date(Date.now() - hours * 3_600_000);
  const filters = { status: status || undefined, event_type: eventType || undefined, limit: LIMIT, offset };
  const page = useLoad(
    () =>
      get<Page<Attempt>>(
        webhookId
          ? `/webhooks/${webhookId}/logs${qs({ ...filters, since: new Date(Math.floor(since.getTime() / 60000) * 60000).toISOString() })}`
          : `/webhooks/logs/recent${qs({ ...filters, hours })}`,
      ),
    [webhookId, status, eventType, range, offset, refreshKey],
    offset === 0 ? 5000 : undefined,
  );
  const reset = () => setOffset(0);
  return (
    <div className="attempt-log">
      <div className="toolbar">
        <select
          aria-label="Outcome"
          value={status}
          onChange={(e) => {
            setStatus(e.target.value);
            reset();
          }}
        >
          {OUTCOMES.map((o) => (
            <option key={o} value={o}>
              {o ? o : 'Any outcome'}
            </option>
          ))}
        </select>
        <select
          aria-label="Event type"
          value={eventType}
          onChange={(e) => {
            setEventType(e.target.value);
            reset();
          }}
        >
          <option value="">Any event type</option>
          {(types.data ?? []).map((t) => (
            <option key={t.type} value={t.type}>
              {t.type}
            </option>
          ))}
        </select>
        <select
          aria-label="Time range"
          value={range}
          onChange={(e) => {
            setRange(e.target.value);
            reset();
          }}
        >
          {Object.keys(RANGES).map((r) => (
            <option key={r} value={r}>
              Last {r}
            </option>
          ))}
        </select>
      </div>
      <ErrorBox error={page.error} />
      {!page.data ? (
        <Loading />
      ) : page.data.items.length === 0 ? (
        <p className="muted">No attempts match.</p>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table" data-testid="attempt-log">
              <thead>
                <tr>
                  <th>When</th>
                  {!webhookId && <th>Webhook</th>}
                  <th>Event</th>
                  <th>Outcome</th>
                  <th className="hide-narrow">Attempt</th>
                  <th className="hide-narrow">Duration</th>
                </tr>
              </thead>
              <tbody>
                {page.data.items.map((a) => (
                  <tr key={a.id} data-status={a.status}>
                    <td>
                      <Link to={`/webhooks/${a.webhook_id}/logs/${a.id}`} title={dateTime(a.created_at)}>
                        {ago(a.finished_at ?? a.created_at)}
                      </Link>
                    </td>
                    {!webhookId && (
                      <td>
                        <Link to={`/webhooks/${a.webhook_id}`}>{names.get(a.webhook_id) ?? a.webhook_id.slice(0, 8)}</Link>
                      </td>
                    )}
                    <td>
                      <code>{a.event_type}</code>
                    </td>
                    <td>
                      <StatusBadge status={a.status} />{' '}
                      <span className="small">{a.status === 'pending' ? `due ${ago(a.scheduled_at)}` : attemptOutcome(a)}</span>
                    </td>
                    <td className="hide-narrow">
                      #{a.attempt} <span className="muted small">{a.trigger}</span>
                    </td>
                    <td className="hide-narrow">{millis(a.duration_ms)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager total={page.data.total} limit={LIMIT} offset={offset} onOffset={setOffset} capped={page.data.total_capped} />
        </>
      )}
    </div>
  );
}

export function LogsPage() {
  return (
    <div className="page">
      <div className="page-head">
        <h1>Attempt log</h1>
        <span className="muted small">All webhooks · refreshes every 5 s while this tab is visible</span>
      </div>
      <Card>
        <AttemptLog />
      </Card>
    </div>
  );
}

export function AttemptDetailPage({ webhookId, logId }: { webhookId: string; logId: string }) {
  const detail = useLoad(() => get<AttemptDetail>(`/webhooks/${webhookId}/logs/${logId}`), [webhookId, logId]);
  const hook = useLoad(() => get<Webhook>(`/webhooks/${webhookId}`), [webhookId]);
  const [redelivered, setRedelivered] = useState<{ log_id: string; attempt: number }>();
  const [error, setError] = useState<unknown>();
  const a = detail.data;
  if (!a) return detail.error ? <ErrorBox error={detail.error} /> : <Loading />;
  const redeliver = async () => {
    setError(undefined);
    try {
      setRedelivered(await post<{ log_id: string; attempt: number }>(`/webhooks/${webhookId}/logs/${logId}/redeliver`));
    } catch (err) {
      setError(err);
    }
  };
  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>
            Attempt #{a.attempt} · <code>{a.event_type}</code>
          </h1>
          <div className="muted">
            to <Link to={`/webhooks/${webhookId}`}>{hook.data?.name ?? webhookId}</Link> · event <Link to={`/events/${a.event_id}`}>{a.event_id}</Link>
          </div>
        </div>
        <AdminOnly>
          <button type="button" className="primary" onClick={() => void redeliver()}>
            Redeliver
          </button>
        </AdminOnly>
      </div>
      <ErrorBox error={error} />
      {redelivered && (
        <div className="alert alert-ok" data-testid="redelivered">
          Sent again as attempt #{redelivered.attempt}: <Link to={`/webhooks/${webhookId}/logs/${redelivered.log_id}`}>see the new attempt</Link>
        </div>
      )}
      <div className="stats-row">
        <div className="stat">
          <div className="stat-label">Outcome</div>
          <div className="stat-value" data-testid="attempt-status">
            <StatusBadge status={a.status} /> {a.status_code !== null ? `HTTP ${a.status_code}` : ''}
          </div>
        </div>
        <div className="stat">
          <div className="stat-label">Duration</div>
          <div className="stat-value">{millis(a.duration_ms)}</div>
        </div>
        <div className="stat">
          <div className="stat-label">Triggered by</div>
          <div className="stat-value">{a.trigger}</div>
        </div>
        <div className="stat">
          <div className="stat-label">Next retry</div>
          <div className="stat-value">{a.next_retry_at ? dateTime(a.next_retry_at) : '—'}</div>
        </div>
      </div>
      {a.error && (
        <div className="alert alert-error" data-testid="attempt-error">
          {a.error}
        </div>
      )}
      <div className="grid-2">
        <Card title="Request">
          <p className="muted small">
            Created {dateTime(a.created_at)} · scheduled {dateTime(a.scheduled_at)} · started {dateTime(a.started_at)} · finished {dateTime(a.finished_at)}
          </p>
          <h3>Headers</h3>
          <KeyValues values={a.request_headers} />
          <h3>Body</h3>
          <pre className="body" data-testid="request-body">
            {pretty(a.request_body)}
          </pre>
        </Card>
        <Card title="Response">
          <h3>Status</h3>
          <p data-testid="response-status">{a.status_code ?? '—'}</p>
          <h3>Headers</h3>
          <KeyValues values={a.response_headers} />
          <h3>Body</h3>
          <pre className="body" data-testid="response-body">
            {a.response_body ?? ''}
          </pre>
        </Card>
      </div>
    </div>
  );
}
