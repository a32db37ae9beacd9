import { FormEvent, useState } from 'react';
import { ApiError, AtlasEvent, EventDetail, EventSummary, EventType, get, Page, post, qs, Webhook } from '../api';
import { AdminOnly } from '../auth';
import { ago, dateTime, millis } from '../format';
import { useLoad } from '../hooks';
import { Link, navigate } from '../router';
import { attemptOutcome, Card, ErrorBox, Loading, Pager, StatusBadge } from '../ui';

const LIMIT = 25;

export function EventsPage() {
  const [type, setType] = useState('');
  const [offset, setOffset] = useState(0);
  const types = useLoad(() => get<EventType[]>('/events/types'), []);
  const events = useLoad(
    async () => {
      const page = await get<Page<AtlasEvent>>(`/events${qs({ type: type || undefined, limit: LIMIT, offset })}`);
      const summaries = page.items.length ? await get<EventSummary[]>(`/events/delivery-summary${qs({ ids: page.items.map((e) => e.id).join(',') })}`) : [];
      return { page, summaries: new Map(summaries.map((s) => [s.event_id, s])) };
    },
    [type, offset],
    offset === 0 ? 5000 : undefined,
  );
  return (
    <div className="page">
      <div className="page-head">
        <h1>Events</h1>
      </div>
      <Card title="History">
        <div className="toolbar">
          <select
            aria-label="Event type"
            value={type}
            onChange={(e) => {
              setType(e.target.value);
              setOffset(0);
            }}
          >
            <option value="">Any type</option>
            {(types.data ?? []).map((t) => (
              <option key={t.type} value={t.type}>
                {t.type}
              </option>
            ))}
          </select>
        </div>
        <ErrorBox error={events.error} />
        {!events.data ? (
          <Loading />
        ) : events.data.page.items.length === 0 ? (
          <p className="muted">No events yet.</p>
        ) : (
          <>
            <div className="table-wrap">
              <table className="table" data-testid="events-table">
                <thead>
                  <tr>
                    <th>Type</th>
                    <th>When</th>
                    <th>Webhooks</th>
                    <th>Delivered</th>
                  </tr>
                </thead>
                <tbody>
                  {events.data.page.items.map((e) => {
                    const s = events.data!.summaries.get(e.id);
                    return (
                      <tr key={e.id}>
                        <td>
                          <Link to={`/events/${e.id}`}>
                            <code>{e.type}</code>
                          </Link>
                        </td>
                        <td title={dateTime(e.created_at)}>{ago(e.created_at)}</td>
                        <td>{s?.webhooks ?? '—'}</td>
                        <td>
                          {s ? (
                            <span className={s.failed ? 'text-failed' : s.pending ? 'text-retrying' : ''}>
                              {s.succeeded} of {s.webhooks}
                              {s.pending ? ` · ${s.pending} trying` : ''}
                              {s.failed ? ` · ${s.failed} failed` : ''}
                            </span>
                          ) : (
                            '—'
                          )}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
            <Pager total={events.data.page.total} limit={LIMIT} offset={offset} onOffset={setOffset} />
          </>
        )}
      </Card>
      <div className="grid-2">
        <Card title="Catalogue">
          {!types.data ? (
            <Loading />
          ) : (
            <table className="table" data-testid="catalogue">
              <tbody>
                {types.data.map((t) => (
                  <tr key={t.type}>
                    <td>
                      <code>{t.type}</code>
                    </td>
                    <td className="wrap">{t.description}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
        <AdminOnly>
          <EmitEvent types={(types.data ?? []).filter((t) => t.category !== 'webhook')} onEmitted={() => events.reload()} />
        </AdminOnly>
      </div>
    </div>
  );
}

function EmitEvent({ types, onEmitted }: { types: EventType[]; onEmitted: () => void }) {
  const [type, setType] = useState('service.started');
  const [data, setData] = useState('{\n  "service_id": "svc_123",\n  "name": "demo"\n}');
  const [error, setError] = useState<string>();
  const [emitted, setEmitted] = useState<{ id: string; type: string }>();
  let parseError: string | undefined;
  try {
    const parsed: unknown = JSON.parse(data);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) parseError = 'data must be a JSON object';
  } catch (e) {
    parseError = `Not valid JSON: ${(e as Error).message}`;
  }
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    try {
      setEmitted(await post<{ id: string; type: string }>('/events', { type, data: JSON.parse(data) as unknown }));
      onEmitted();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  };
  return (
    <Card title="Emit a test event">
      <form className="form" onSubmit={(e) => void submit(e)} aria-label="Emit an event">
        <label>
          Type
          <select value={type} onChange={(e) => setType(e.target.value)}>
            {types.map((t) => (
              <option key={t.type} value={t.type}>
                {t.type}
              </option>
            ))}
          </select>
        </label>
        <label>
          Data (JSON object)
          <textarea className="code" rows={8} spellCheck={false} value={data} onChange={(e) => setData(e.target.value)} aria-invalid={!!parseError} />
          {parseError && <span className="field-error">{parseError}</span>}
        </label>
        {error && <div className="alert alert-error">{error}</div>}
        {emitted && (
          <div className="alert alert-ok">
            Emitted <Link to={`/events/${emitted.id}`}>{emitted.type}</Link>: it is delivered to every enabled webhook subscribed to it.
          </div>
        )}
        <button type="submit" className="primary" disabled={!!parseError}>
          Emit
        </button>
      </form>
    </Card>
  );
}

export function EventDetailPage({ id }: { id: string }) {
  const event = useLoad(() => get<EventDetail>(`/events/${id}`), [id], 5000);
  const hooks = useLoad(() => get<Page<Webhook>>('/webhooks?limit=500'), []);
  const names = new Map((hooks.data?.items ?? []).map((w) => [w.id, w.name]));
  const e = event.data;
  if (!e) return event.error ? <ErrorBox error={event.error} /> : <Loading />;
  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>
            <code>{e.type}</code>
          </h1>
          <div className="muted">
            {e.id} · {dateTime(e.created_at)}
          </div>
        </div>
        <button type="button" onClick={() => navigate('/events')}>
          All events
        </button>
      </div>
      <div className="grid-2">
        <Card title="Data">
          <pre className="body">{JSON.stringify(e.data ?? e.payload, null, 2)}</pre>
        </Card>
        <Card title={`Deliveries (${e.deliveries.length} webhooks)`}>
          {e.deliveries.length === 0 && <p className="muted">No webhook was subscribed to this type when it was recorded.</p>}
          {e.deliveries.map((d) => (
            <div key={d.webhook_id} className="delivery-group">
              <h3>
                <Link to={`/webhooks/${d.webhook_id}`}>{names.get(d.webhook_id) ?? d.webhook_id}</Link>
              </h3>
              <table className="table">
                <tbody>
                  {d.attempts.map((a) => (
                    <tr key={a.id}>
                      <td>
                        <Link to={`/webhooks/${a.webhook_id}/logs/${a.id}`}>#{a.attempt}</Link> <span className="muted small">{a.trigger}</span>
                      </td>
                      <td>
                        <StatusBadge status={a.status} /> <span className="small">{attemptOutcome(a)}</span>
                      </td>
                      <td>{millis(a.duration_ms)}</td>
                      <td>{ago(a.finished_at ?? a.scheduled_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ))}
        </Card>
      </div>
    </div>
  );
}
