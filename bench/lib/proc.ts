/** Linux /proc readings: memory of a process and CPU time of processes (and of PostgreSQL's backends). */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let clockTicks: number | null = null;
function ticksPerSecond(): number {
  if (clockTicks === null) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** VmRSS and VmHWM (peak RSS) in MB; null when the process is gone. */
export function memoryMb(pid: number): { rss: number; hwm: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

function stat(pid: number): { ppid: number; cpuSeconds: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15
    return { ppid: Number(fields[1]), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / ticksPerSecond() };
  } catch {
    return null;
  }
}

/** CPU seconds used so far by `pid`, and with `children` by each of its direct children (PostgreSQL backends). */
export function cpuSeconds(pid: number, children = false): Map<number, number> {
  const out = new Map<number, number>();
  const own = stat(pid);
  if (own) out.set(pid, own.cpuSeconds);
  if (children) {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const s = stat(Number(entry));
      if (s && s.ppid === pid) out.set(Number(entry), s.cpuSeconds);
    }
  }
  return out;
}

/** /proc/stat's first line: CPU seconds of the whole machine so far (all cores). */
function machineCpu(): { busy: number; steal: number; softirq: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …: busy = all but idle and iowait
    const busy = f.reduce((a, b) => a + b, 0) - f[3] - (f[4] ?? 0);
    return { busy: busy / ticksPerSecond(), steal: (f[7] ?? 0) / ticksPerSecond(), softirq: (f[6] ?? 0) / ticksPerSecond() };
  } catch {
    return { busy: NaN, steal: NaN, softirq: NaN };
  }
}

export interface CpuTarget {
  name: string;
  pid: number;
  children?: boolean;
}

/**
 * Measures how many cores each process used over an interval. A backend that
 * exits during the interval takes its CPU time with it (an undercount; the
 * service's and the benchmark's connections stay open, autovacuum workers come
 * and go).
 */
export class CpuMeter {
  private readonly start: Map<string, Map<number, number>>;
  private readonly machineStart = machineCpu();
  private readonly t0 = performance.now();
  /** After stop(): CPU seconds per target over the interval (unrounded), and the interval's length in seconds. */
  cpuSeconds: Record<string, number> = {};
  wallSeconds = NaN;

  constructor(private readonly targets: CpuTarget[]) {
    this.start = new Map(targets.map((t) => [t.name, cpuSeconds(t.pid, t.children)]));
  }

  /**
   * Cores used per process since construction (1.0 = one core busy all the
   * time), plus `machine` (all processes) and `others` (machine minus ours:
   * anything else running on the box while we measured, which skews figures),
   * and of `others` two parts that are not processes: `softirq` (the kernel's
   * network work) and `steal` (CPU the hypervisor gave to other guests).
   */
  stop(): Record<string, number> {
    const wall = (performance.now() - this.t0) / 1000;
    this.wallSeconds = wall;
    const out: Record<string, number> = {};
    let ours = 0;
    for (const t of this.targets) {
      const before = this.start.get(t.name)!;
      let delta = 0;
      for (const [pid, seconds] of cpuSeconds(t.pid, t.children)) delta += seconds - (before.get(pid) ?? 0);
      const used = delta / wall;
      this.cpuSeconds[t.name] = delta;
      ours += used;
      out[t.name] = Math.round(used * 100) / 100;
    }
    const now = machineCpu();
    const machine = (now.busy - this.machineStart.busy) / wall;
    out.machine = Math.round(machine * 100) / 100;
    out.others = Math.max(0, Math.round((machine - ours) * 100) / 100);
    // of which: the kernel's network work (loopback traffic) and time the hypervisor gave to other guests
    out.softirq = Math.round(((now.softirq - this.machineStart.softirq) / wall) * 100) / 100;
    out.steal = Math.round(((now.steal - this.machineStart.steal) / wall) * 100) / 100;
    return out;
  }
}

/** Milliseconds of CPU per delivery of each of `names` over a stopped meter's interval. */
export function cpuMsPer(meter: CpuMeter, deliveries: number, names: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) out[n] = deliveries > 0 ? Math.round(((meter.cpuSeconds[n] ?? NaN) * 1e6) / deliveries) / 1000 : NaN;
  return out;
}

/** Samples VmRSS every `everyMs`; `stop()` gives the peak sampled and the kernel's VmHWM. */
export function sampleRss(pid: number, everyMs = 100): { stop: () => { peakMb: number; hwmMb: number; samples: number } } {
  let peak = 0;
  let hwm = 0;
  let samples = 0;
  const take = () => {
    const m = memoryMb(pid);
    if (!m) return;
    samples++;
    peak = Math.max(peak, m.rss);
    hwm = Math.max(hwm, m.hwm);
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop: () => {
      take();
      clearInterval(timer);
      return { peakMb: Math.round(peak * 10) / 10, hwmMb: Math.round(hwm * 10) / 10, samples };
    },
  };
}
