/** The figures of a benchmark run: the table on stdout, the JSON file and the one-line key=value summary. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { median, round } from './stats';

export const RESULTS_DIR = resolve(__dirname, '..', '..', '..', 'bench', 'results');

export interface Target {
  op: '>=' | '<' | '<=';
  value: number;
}

export interface Figure {
  scenario: string;
  /** Key in the key=value line and the JSON. */
  key: string;
  label: string;
  unit: string;
  /** The median of `samples`. */
  value: number;
  samples: number[];
  target?: Target;
  met?: boolean;
}

export class Report {
  readonly figures: Figure[] = [];
  readonly details: Record<string, unknown> = {};
  readonly errors: Record<string, string> = {};

  constructor(readonly meta: Record<string, unknown>) {}

  /** Records a figure: the median of the samples, checked against the target. */
  add(scenario: string, key: string, label: string, unit: string, samples: number[], target?: Target): Figure {
    const clean = samples.filter((v) => Number.isFinite(v));
    const value = clean.length ? round(median(clean)) : NaN;
    const met =
      target && Number.isFinite(value)
        ? target.op === '>='
          ? value >= target.value
          : target.op === '<'
            ? value < target.value
            : value <= target.value
        : undefined;
    const figure: Figure = { scenario, key, label, unit, value, samples: samples.map(round), target, met };
    this.figures.push(figure);
    return figure;
  }

  detail(scenario: string, data: Record<string, unknown>): void {
    this.details[scenario] = { ...(this.details[scenario] as Record<string, unknown> | undefined), ...data };
  }

  table(): string {
    const rows = [['scenario', 'figure', 'value', 'unit', 'runs', 'target', 'met']];
    for (const f of this.figures) {
      rows.push([
        f.scenario,
        f.label,
        Number.isFinite(f.value) ? String(f.value) : 'n/a',
        f.unit,
        String(f.samples.length),
        f.target ? `${f.target.op} ${f.target.value}` : '',
        f.met === undefined ? '' : f.met ? 'yes' : 'NO',
      ]);
    }
    for (const [scenario, message] of Object.entries(this.errors))
      rows.push([scenario, `FAILED: ${message.split('\n')[0].slice(0, 80)}`, '', '', '', '', 'NO']);
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    const line = (r: string[]) => r.map((cell, c) => (c === 2 || c === 4 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ');
    return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
  }

  keyValueLine(): string {
    const parts = this.figures.map((f) => `${f.key}=${Number.isFinite(f.value) ? f.value : 'nan'}`);
    const judged = this.figures.filter((f) => f.met !== undefined);
    parts.push(`targets_met=${judged.filter((f) => f.met).length}/${judged.length}`);
    if (Object.keys(this.errors).length) parts.push(`failed=${Object.keys(this.errors).join(',')}`);
    return parts.join(' ');
  }

  write(startedAt: Date): string {
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = join(
      RESULTS_DIR,
      `${startedAt
        .toISOString()
        .replace(/:/g, '-')
        .replace(/\.\d+Z$/, 'Z')}.json`,
    );
    const figures = Object.fromEntries(this.figures.map((f) => [f.key, f]));
    writeFileSync(file, JSON.stringify({ meta: this.meta, figures, errors: this.errors, details: this.details }, null, 2) + '\n');
    return file;
  }
}
