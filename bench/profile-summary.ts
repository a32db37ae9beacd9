/**
 * `node dist/bench/profile-summary.js <file.cpuprofile|folder> [top]`: the
 * top self-time functions and packages of V8 CPU profiles (BENCH_CPU_PROF=1
 * writes them to bench/results/profiles/).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatProfile, summarizeProfile } from './lib/profile';

function profilesIn(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(path, f))
    .sort();
}

const [target, top] = process.argv.slice(2);
if (!target) {
  console.error('usage: node dist/bench/profile-summary.js <file.cpuprofile | folder> [top=25]');
  process.exit(2);
}
for (const file of profilesIn(target)) console.log(formatProfile(summarizeProfile(file, Number(top ?? 25))) + '\n');
