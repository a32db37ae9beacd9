import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Files lint does not read (Markdown, env, JSON): a merge's conflict markers must not land in them either. */
function textFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (['node_modules', 'dist', '.git', '.data', '.artifacts', 'results', 'coverage'].includes(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) textFiles(path, out);
    else if (/\.(md|json|example|yml|yaml|css|html)$/.test(name) && name !== 'package-lock.json') out.push(path);
  }
  return out;
}

describe('no merge conflict markers', () => {
  it('in the documentation and configuration files', () => {
    const root = join(__dirname, '..', '..');
    const offenders = textFiles(root).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line, i) => ({ line, i }))
        .filter(({ line }) => /^(<{7} |>{7} |={7}$)/.test(line))
        .map(({ i }) => `${relative(root, file)}:${i + 1}`),
    );
    expect(offenders).toEqual([]);
  });
});
