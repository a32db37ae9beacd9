/**
 * Samples the service's own GET /metrics (open to loopback by default) while
 * a scenario runs: how many requests it had in flight and how many due
 * attempts waited in the queue. A dispatcher that keeps its slots full while
 * attempts are due is limited by the send path; one that idles with attempts
 * due is limited by claiming/fan-out.
 */
import { distribution, round } from './stats';

function gauge(text: string, name: string): number | null {
  const m = new RegExp(`^${name} ([-\\d.eE+NaN]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

export interface MetricsSummary {
  samples: number;
  in_flight: { mean: number; p50: number; max: number };
  due: { mean: number; p50: number; max: number };
  /** Share of samples with due attempts waiting while fewer than `limit` requests were in flight. */
  idle_slots_with_due_share: number;
  /** Every sample, in order (one per `everyMs`): where in the run the engine was short of work or of slots. */
  series: { every_ms: number; in_flight: number[]; due: number[] };
}

/**
 * Every 5 s by default: each scrape counts the queue in PostgreSQL (about 80 ms
 * of a backend's CPU behind a backlog of 100,000), and at every 2 s the
 * sampler's own scrapes were 7 % of PostgreSQL's time in a throughput run,
 * a load the minimal sender's runs do not carry.
 */
export function sampleMetrics(baseUrl: string, limit: number, everyMs = 5000): { stop: () => Promise<MetricsSummary> } {
  const inFlight: number[] = [];
  const due: number[] = [];
  let idleWithDue = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const res = await fetch(`${baseUrl}/metrics`);
        const text = await res.text();
        const f = gauge(text, 'atlas_webhooks_in_flight');
        const d = gauge(text, 'atlas_webhooks_attempts_due');
        if (f !== null && d !== null && Number.isFinite(d)) {
          inFlight.push(f);
          due.push(d);
          if (d > 0 && f < limit) idleWithDue++;
        }
      } catch {
        /* the service may be starting or stopping */
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  const brief = (values: number[]) => {
    const d = distribution(values);
    return { mean: round(d.mean), p50: round(d.p50), max: round(d.max) };
  };
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return {
        samples: inFlight.length,
        in_flight: brief(inFlight),
        due: brief(due),
        idle_slots_with_due_share: inFlight.length ? round(idleWithDue / inFlight.length) : NaN,
        series: { every_ms: everyMs, in_flight: inFlight, due },
      };
    },
  };
}
