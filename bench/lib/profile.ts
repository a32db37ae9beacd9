/** Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by package/file. */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  /** For a function of Node or V8: the nearest caller in a package or in the service's code. */
  via?: string;
  ms: number;
  /** Share of the busy (non-idle) time, in %. */
  pct: number;
}

export interface ProfileSummary {
  file: string;
  wall_ms: number;
  busy_ms: number;
  idle_ms: number;
  top_functions: SelfTime[];
  by_area: SelfTime[];
}

function shortUrl(url: string): string {
  let u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) return u.slice(nm + 1);
  const dist = u.indexOf('/dist/');
  if (dist >= 0) u = u.slice(dist + 1);
  return u;
}

/** node_modules/<package>, dist/src/<folder>, node internals, or a V8 pseudo-frame. */
function area(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:'))
    return `node:${url
      .slice(5)
      .split('/')
      .slice(0, url.startsWith('node:internal/') ? 2 : 1)
      .join('/')}`;
  const short = shortUrl(url);
  const m = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(short);
  if (m) return m[1];
  const src = /^dist\/src\/([^/]+(?:\/[^/]+)?)/.exec(short);
  if (src) return `src/${src[1].replace(/\.js$/, '.ts')}`;
  return short;
}

export function summarizeProfile(file: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  const frame = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  const isOurs = (url: string) => url.includes('/node_modules/') || url.includes('/dist/');
  const viaOf = (id: number): string | undefined => {
    if (isOurs(byId.get(id)!.callFrame.url)) return undefined;
    for (let p = parentOf.get(id); p !== undefined; p = parentOf.get(p)) if (isOurs(byId.get(p)!.callFrame.url)) return frame(byId.get(p)!);
    return undefined;
  };
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000; // time until the next sample, in ms
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
  }
  const fn = new Map<string, number>();
  const vias = new Map<string, Map<string, number>>();
  const areas = new Map<string, number>();
  let idle = 0;
  let total = 0;
  for (const [id, ms] of self) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    total += ms;
    if (functionName === '(idle)') {
      idle += ms;
      continue;
    }
    const name = `${functionName || '(anonymous)'}${url ? ` ${shortUrl(url)}:${lineNumber + 1}` : ''}`;
    fn.set(name, (fn.get(name) ?? 0) + ms);
    const via = viaOf(id);
    if (via) {
      const m = vias.get(name) ?? new Map<string, number>();
      m.set(via, (m.get(via) ?? 0) + ms);
      vias.set(name, m);
    }
    const a = area(url, functionName || '(anonymous)');
    areas.set(a, (areas.get(a) ?? 0) + ms);
  }
  const busy = total - idle;
  const topVia = (name: string): string | undefined => {
    const m = vias.get(name);
    return m ? [...m.entries()].sort((a, b) => b[1] - a[1])[0][0] : undefined;
  };
  const rank = (m: Map<string, number>, n: number, withVia = false): SelfTime[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, ms]) => ({ name, ...(withVia && topVia(name) ? { via: topVia(name) } : {}), ms: Math.round(ms), pct: Math.round((ms / busy) * 1000) / 10 }));
  return {
    file,
    wall_ms: Math.round((profile.endTime - profile.startTime) / 1000),
    busy_ms: Math.round(busy),
    idle_ms: Math.round(idle),
    top_functions: rank(fn, top, true),
    by_area: rank(areas, 15),
  };
}

export function formatProfile(s: ProfileSummary): string {
  const lines = [`${s.file}: wall ${s.wall_ms} ms, busy ${s.busy_ms} ms, idle ${s.idle_ms} ms`, '  self time by area:'];
  for (const a of s.by_area) lines.push(`    ${a.pct.toFixed(1).padStart(5)}%  ${String(a.ms).padStart(7)} ms  ${a.name}`);
  lines.push('  top functions (self time):');
  for (const f of s.top_functions) lines.push(`    ${f.pct.toFixed(1).padStart(5)}%  ${String(f.ms).padStart(7)} ms  ${f.name}${f.via ? `  <- ${f.via}` : ''}`);
  return lines.join('\n');
}
