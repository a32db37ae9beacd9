import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export interface PythonVerdict {
  verified: boolean;
  fixed_point: boolean;
}

/** Runs the ATLAS guide's Python verifier (python3) over captured deliveries. */
export function verifyWithPython(items: Array<{ body: string; signature: string; secret: string }>): PythonVerdict[] {
  const run = spawnSync('python3', [join(__dirname, '..', 'fixtures', 'atlas_verify.py')], { input: JSON.stringify(items), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`python3 failed: ${run.stderr || run.error?.message}`);
  return JSON.parse(run.stdout) as PythonVerdict[];
}
