import { useState } from 'react';
import { del, get, post, qs, TestResult, TimeSeries, Webhook, WebhookStats } from '../api';
import { AdminOnly, useAuth } from '../auth';
import { LatencyChart, OutcomeChart } from '../chart';
import { ago, count, dateTime, millis, percent } from '../format';
import { useLoad } from '../hooks';
import { navigate } from '../router';
import { Card, ConfirmButton, CopyButton, EnabledBadge, ErrorBox, KeyValues, Loading, Stat } from '../ui';
import { AttemptLog } from './logs';

const RANGES = {
  '1h': { hours: 1, bucket: '1m' },
  '24h': { hours: 24, bucket: '15m' },
  '7d': { hours: 168, bucket: '1h' },
} as const;

export function WebhookDetailPage({ id }: { id: string }) {
  const { isAdmin } = useAuth();
  const [range, setRange] = useState<keyof typeof RANGES>('24h');
  const { hours, bucket } = RANGES[range];
  const hook = useLoad(() => get<Webhook>(`/webhooks/${id}`), [id], 10000);
  const stats = useLoad(() => get<WebhookStats>(`/webhooks/${id}/stats${qs({ hours })}`), [id, hours], 5000);
  const series = useLoad(() => get<TimeSeries>(`/webhooks/${id}/stats/timeseries${qs({ hours, bucket })}`), [id, hours, bucket], 5000);
  const [actionError, setActionError] = useState<unknown>();
  const [test, setTest] = useState<TestResult | 'sending'>();
  const [secret, setSecret] = useState<{ secret: string; previous_secret_expires_at?: string | null; note?: string }>();
  const [recoverSince, setRecoverSince] = useState(() => new Date(Date.now() - 86_400_000).toISOString().slice(0, 16));
  const [recovered, setRecovered] = useState<string>();
  const [logKey, setLogKey] = useState(0);

  const run = async (fn: () => Promise<unknown>) => {
    setActionError(undefined);
    try {
      await fn();
    } catch (err) {
      setActionError(err);
    } finally {
      setLogKey((k) => k + 1);
    }
  };

  const w = hook.data;
  if (!w) return hook.error ? <ErrorBox error={hook.error} /> : <Loading />;
  const s = stats.data;

  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>{w.name}</h1>
          <div className="muted ellipsis">{w.url}</div>
        </div>
        <div className="actions">
          <EnabledBadge enabled={w.enabled} failing={w.consecutive_failures > 0} />
          <AdminOnly>
            <button
              type="button"
              className="primary"
              disabled={test === 'sending'}
              onClick={() =>
                void run(async () => {
                  setTest('sending');
                  try {
                    setTest(await post<TestResult>(`/webhooks/${id}/test`));
                  } catch (err) {
                    setTest(undefined);
                    throw err;
                  }
                  hook.reload();
                  stats.reload();
                  series.reload();
                })
              }
            >
              {test === 'sending' ? 'Sending…' : 'Send test'}
            </button>
            <button type="button" onClick={() => void run(async () => (await post(`/webhooks/${id}/toggle`), hook.reload()))}>
              {w.enabled ? 'Disable' : 'Enable'}
            </button>
            <button type="button" onClick={() => navigate(`/webhooks/${id}/edit`)}>
              Edit
            </button>
            <ConfirmButton
              label="Delete"
              confirm="Delete this webhook and its delivery log?"
              onConfirm={() => void run(async () => (await del(`/webhooks/${id}`), navigate('/webhooks')))}
            />
          </AdminOnly>
        </div>
      </div>
      <ErrorBox error={actionError} />
      {test && test !== 'sending' && (
        <div className={`alert ${test.success ? 'alert-ok' : 'alert-error'}`} data-testid="test-result">
          <strong>{test.success ? 'Test delivered' : 'Test failed'}</strong> · {test.status_code !== null ? `HTTP ${test.status_code}` : (test.error ?? '')} ·{' '}
          {millis(test.duration_ms)}
          {test.error && test.status_code !== null && <div>{test.error}</div>}
          {test.response_body && <pre className="body small">{test.response_body}</pre>}
        </div>
      )}
      {!w.enabled && w.disabled_reason && <div className="alert alert-warn">Disabled: {w.disabled_reason}</div>}
      {w.enabled && w.last_error && w.consecutive_failures > 0 && (
        <div className="alert alert-warn">
          Failing since {dateTime(w.failing_since)} ({w.consecutive_failures} in a row): {w.last_error}
        </div>
      )}

      <div className="page-head">
        <h2>Deliveries</h2>
        <div className="segmented" role="group" aria-label="Range">
          {(Object.keys(RANGES) as Array<keyof typeof RANGES>).map((r) => (
            <button key={r} type="button" className={r === range ? 'active' : ''} onClick={() => setRange(r)}>
              {r}
            </button>
          ))}
        </div>
      </div>
      {s && (
        <div className="stats-row">
          <Stat testId="stat-success-rate" label="Success rate" value={percent(s.success_rate)} hint={`${count(s.succeeded)} ok · ${count(s.failed)} failed`} />
          <Stat label="p95 / average" value={millis(s.p95_duration_ms)} hint={`avg ${millis(s.avg_duration_ms)}`} />
          <Stat label="Events delivered" value={count(s.events_delivered)} hint={`${s.events_pending_retry} waiting for a retry`} />
          <Stat label="Queue" value={count(s.queue.pending)} hint={`${s.queue.due} due · ${s.queue.sending} sending`} />
          <Stat label="Last delivery" value={ago(w.last_triggered_at)} hint={`last success ${ago(w.last_success_at)}`} />
        </div>
      )}
      <div className="grid-2">
        <Card title="Attempts by outcome">{series.data ? <OutcomeChart buckets={series.data.buckets} /> : <Loading />}</Card>
        <Card title="Latency (p50 / p95)">{series.data ? <LatencyChart buckets={series.data.buckets} /> : <Loading />}</Card>
      </div>

      <div className="grid-2">
        <Card title="Configuration">
          <table className="kv">
            <tbody>
              <tr>
                <th>Events</th>
                <td>
                  <div className="tags">
                    {w.events.map((e) => (
                      <span key={e} className="tag">
                        {e}
                      </span>
                    ))}
                  </div>
                </td>
              </tr>
              <tr>
                <th>Description</th>
                <td>{w.description || '—'}</td>
              </tr>
              <tr>
                <th>Retries</th>
                <td>{w.retry_enabled ? 'on' : 'off (one attempt)'}</td>
              </tr>
              <tr>
                <th>Timeout</th>
                <td>{millis(w.timeout_ms)}</td>
              </tr>
              <tr>
                <th>Secret</th>
                <td>
                  <code data-testid="masked-secret">{w.secret}</code>
                </td>
              </tr>
              <tr>
                <th>Created</th>
                <td>{dateTime(w.created_at)}</td>
              </tr>
            </tbody>
          </table>
          <h3>Custom headers</h3>
          <KeyValues values={w.headers} />
        </Card>
        {isAdmin && (
          <Card title="Secret and recovery">
            <div className="actions">
              <button
                type="button"
                onClick={() =>
                  void run(async () => setSecret(await get<{ secret: string; previous_secret_expires_at?: string | null }>(`/webhooks/${id}/secret`)))
                }
              >
                Reveal secret
              </button>
              <ConfirmButton
                label="Rotate secret"
                className=""
                confirm="Rotate? Both secrets sign deliveries for 24 hours."
                onConfirm={() =>
                  void run(async () => {
                    const r = await post<{ secret: string; previous_secret_expires_at: string }>(`/webhooks/${id}/rotate-secret`);
                    setSecret({ ...r, note: 'rotated' });
                    hook.reload();
                  })
                }
              />
            </div>
            <p className="muted small">
              Rotating generates a new secret. For 24 hours every delivery carries signatures made with both the new and the previous secret (in{' '}
              <code>webhook-signature</code>), so receivers can switch to the new one without missing a delivery.
            </p>
            {secret && (
              <div className="secret-row">
                <code data-testid="revealed-secret">{secret.secret}</code>
                <CopyButton text={secret.secret} />
                {secret.previous_secret_expires_at && (
                  <span className="muted small">previous one valid until {dateTime(secret.previous_secret_expires_at)}</span>
                )}
              </div>
            )}
            <h3>Recover since…</h3>
            <p className="muted small">Queues one new attempt for every event since then that was never delivered to this webhook.</p>
            <div className="row">
              <input type="datetime-local" aria-label="Recover since" value={recoverSince} onChange={(e) => setRecoverSince(e.target.value)} />
              <button
                type="button"
                onClick={() =>
                  void run(async () => {
                    const r = await post<{ queued: number; limit: number }>(`/webhooks/${id}/recover`, { since: new Date(recoverSince).toISOString() });
                    setRecovered(
                      `${r.queued} attempt${r.queued === 1 ? '' : 's'} queued${r.queued >= r.limit ? ` (the most one call queues: ${r.limit})` : ''}`,
                    );
                  })
                }
              >
                Recover
              </button>
            </div>
            {recovered && <div className="alert alert-ok">{recovered}</div>}
          </Card>
        )}
      </div>

      <Card title="Attempt log">
        <AttemptLog webhookId={id} refreshKey={logKey} />
      </Card>
    </div>
  );
}
