import { useState } from 'react';
import { get, Overview, qs, TimeSeries } from '../api';
import { LatencyChart, OutcomeChart } from '../chart';
import { count, duration, millis, percent, ago } from '../format';
import { useLoad } from '../hooks';
import { Link } from '../router';
import { Card, EnabledBadge, ErrorBox, Loading, Stat } from '../ui';

const RANGES = { '24h': { hours: 24, bucket: '1h' }, '7d': { hours: 168, bucket: '6h' } } as const;

export function OverviewPage() {
  const [range, setRange] = useState<keyof typeof RANGES>('24h');
  const { hours, bucket } = RANGES[range];
  const overview = useLoad(() => get<Overview>(`/webhooks/stats/overview${qs({ hours })}`), [hours], 5000);
  const series = useLoad(() => get<TimeSeries>(`/webhooks/stats/timeseries${qs({ hours, bucket })}`), [hours, bucket], 5000);
  const o = overview.data;
  return (
    <div className="page">
      <div className="page-head">
        <h1>Overview</h1>
        <div className="segmented" role="group" aria-label="Range">
          {(Object.keys(RANGES) as Array<keyof typeof RANGES>).map((r) => (
            <button key={r} type="button" className={r === range ? 'active' : ''} onClick={() => setRange(r)}>
              Last {r}
            </button>
          ))}
        </div>
      </div>
      <ErrorBox error={overview.error ?? series.error} />
      {!o ? (
        <Loading />
      ) : (
        <div className="stats-row">
          <Stat
            testId="stat-success-rate"
            label="Success rate"
            value={percent(o.totals.success_rate)}
            hint={`${count(o.totals.succeeded)} ok · ${count(o.totals.failed)} failed`}
          />
          <Stat testId="stat-p95" label="p95 latency" value={millis(o.totals.p95_ms)} hint={`last ${range}`} />
          <Stat
            testId="stat-due"
            label="Queue: due now"
            value={count(o.queue.due)}
            hint={`${count(o.queue.pending)} pending · ${count(o.queue.sending)} sending`}
          />
          <Stat label="Oldest due" value={o.queue.due ? duration(o.queue.oldest_due_age_seconds) : '—'} hint="delivery lag" />
          <Stat
            testId="stat-webhooks"
            label="Webhooks"
            value={count(o.webhooks.total)}
            hint={`${o.webhooks.enabled} enabled · ${o.webhooks.failing} failing · ${o.webhooks.disabled} disabled`}
          />
        </div>
      )}
      <div className="grid-2">
        <Card title={`Deliveries, last ${range}`}>{series.data ? <OutcomeChart buckets={series.data.buckets} /> : <Loading />}</Card>
        <Card title="Latency (p50 / p95)">{series.data ? <LatencyChart buckets={series.data.buckets} /> : <Loading />}</Card>
      </div>
      <Card title="Needs attention">
        {o && o.attention.length === 0 && <p className="muted">Every webhook is enabled and its last attempt succeeded.</p>}
        {o && o.attention.length > 0 && (
          <table className="table" data-testid="attention">
            <thead>
              <tr>
                <th>Webhook</th>
                <th>State</th>
                <th>Why</th>
                <th>Since</th>
              </tr>
            </thead>
            <tbody>
              {o.attention.map((w) => (
                <tr key={w.id}>
                  <td>
                    <Link to={`/webhooks/${w.id}`}>{w.name}</Link>
                    <div className="muted small ellipsis">{w.url}</div>
                  </td>
                  <td>
                    <EnabledBadge enabled={w.enabled} failing={w.consecutive_failures > 0} />
                    {w.consecutive_failures > 0 && (
                      <div className="muted small">{w.consecutive_failures === 1 ? '1 failure' : `${w.consecutive_failures} failures in a row`}</div>
                    )}
                  </td>
                  <td className="wrap">{w.disabled_reason ?? w.last_error ?? '—'}</td>
                  <td>{ago(w.failing_since ?? w.last_failure_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      <p className="muted small live">Refreshes every 5 s while this tab is visible.</p>
    </div>
  );
}
