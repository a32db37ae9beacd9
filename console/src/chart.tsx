import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Bucket } from './api';

export const COLORS = {
  succeeded: '#16a34a',
  failed: '#dc2626',
  retrying: '#d97706',
  p50: '#2563eb',
  p95: '#7c3aed',
};

interface Series {
  label: string;
  color: string;
  values: Array<number | null>;
  bars?: boolean;
}

/** A uPlot chart over the buckets' start times; resizes with its box. */
function TimeChart({
  times,
  step,
  series,
  height,
  yLabel,
  testId,
}: {
  times: number[];
  /** Bucket width in seconds: the x axis ends with the last bucket, not at its start. */
  step: number;
  series: Series[];
  height: number;
  yLabel: string;
  testId: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const key = series.map((s) => s.label).join('|');

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const bars = uPlot.paths.bars!({ size: [0.8, 40], align: 0 });
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true, range: (_u, min, max) => [min, max + step] }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [
        { stroke: '#475569', grid: { stroke: '#e2e8f0' } },
        { stroke: '#475569', grid: { stroke: '#e2e8f0' }, label: yLabel, size: 60 },
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: s.bars ? 0 : 2,
          fill: s.bars ? s.color : undefined,
          paths: s.bars ? bars : undefined,
          // lines mark their points, so that a lone bucket with data shows
          points: { show: !s.bars, size: 6, fill: s.color },
          spanGaps: !s.bars,
        })),
      ],
    };
    plot.current = new uPlot(opts, [times, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // a new chart when the set of series changes; new data goes through setData below
  }, [key, height, yLabel, step]);

  useEffect(() => {
    plot.current?.setData([times, ...series.map((s) => s.values)] as uPlot.AlignedData);
  }, [times, series]);

  return <div className="chart" ref={box} data-testid={testId} data-points={times.length} />;
}

const secondsOf = (buckets: Bucket[]) => buckets.map((b) => new Date(b.start).getTime() / 1000);
const stepOf = (buckets: Bucket[]) => (buckets.length > 1 ? (new Date(buckets[1].start).getTime() - new Date(buckets[0].start).getTime()) / 1000 : 3600);

/** Attempts per bucket by outcome: succeeded, failed and retrying side by side as thin stacked-looking bars. */
export function OutcomeChart({ buckets, height = 220, testId = 'outcome-chart' }: { buckets: Bucket[]; height?: number; testId?: string }) {
  const times = secondsOf(buckets);
  // drawn as stacked bars: each series is the running sum, the later ones behind
  const ok = buckets.map((b) => b.succeeded);
  const failed = buckets.map((b) => b.succeeded + b.failed + b.cancelled);
  const retrying = buckets.map((b) => b.succeeded + b.failed + b.cancelled + b.retrying);
  return (
    <TimeChart
      testId={testId}
      times={times}
      step={stepOf(buckets)}
      height={height}
      yLabel="attempts"
      series={[
        { label: 'Retrying / queued', color: COLORS.retrying, values: retrying, bars: true },
        { label: 'Failed', color: COLORS.failed, values: failed, bars: true },
        { label: 'Succeeded', color: COLORS.succeeded, values: ok, bars: true },
      ]}
    />
  );
}

export function LatencyChart({ buckets, height = 200, testId = 'latency-chart' }: { buckets: Bucket[]; height?: number; testId?: string }) {
  return (
    <TimeChart
      testId={testId}
      times={secondsOf(buckets)}
      step={stepOf(buckets)}
      height={height}
      yLabel="ms"
      series={[
        { label: 'p50', color: COLORS.p50, values: buckets.map((b) => b.p50_ms) },
        { label: 'p95', color: COLORS.p95, values: buckets.map((b) => b.p95_ms) },
      ]}
    />
  );
}

/** Success rate per bucket as a small SVG line (buckets without finished attempts are gaps). */
export function Sparkline({ buckets, width = 120, height = 28 }: { buckets: Bucket[]; width?: number; height?: number }) {
  const rates = buckets.map((b) => (b.succeeded + b.failed ? b.succeeded / (b.succeeded + b.failed) : null));
  const step = buckets.length > 1 ? width / (buckets.length - 1) : width;
  const segments: string[] = [];
  let current = '';
  rates.forEach((r, i) => {
    if (r === null) {
      if (current) segments.push(current);
      current = '';
      return;
    }
    const x = (i * step).toFixed(1);
    const y = (2 + (1 - r) * (height - 4)).toFixed(1);
    current += `${current ? 'L' : 'M'}${x},${y}`;
  });
  if (current) segments.push(current);
  const worst = Math.min(...rates.filter((r): r is number => r !== null), 1);
  const color = worst >= 0.99 ? COLORS.succeeded : worst >= 0.8 ? COLORS.retrying : COLORS.failed;
  return (
    <svg className="sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label="success rate over the last 24 hours">
      <line x1="0" x2={width} y1="2" y2="2" stroke="#e2e8f0" />
      {segments.map((d, i) => (
        <path key={i} d={d.includes('L') ? d : `${d}l0.1,0`} fill="none" stroke={color} strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" />
      ))}
    </svg>
  );
}
