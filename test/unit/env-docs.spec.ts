import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { renderEnvExample, renderEnvTable } from '../../scripts/env-docs';
import { parseEnv, VARIABLES } from '../../src/config/env.schema';

const ROOT = join(__dirname, '..', '..');
const ENV_EXAMPLE = join(ROOT, '.env.example');
const README = join(ROOT, 'README.md');
const MARKER = '<!-- env-table -->';
const REGENERATE = 'regenerate it with `npm run build && node dist/scripts/env-docs.js example > .env.example`';

describe('configuration docs (.env.example, README table)', () => {
  it('every variable has a description and a unique name', () => {
    const names = VARIABLES.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
    for (const spec of VARIABLES) {
      expect({ name: spec.name, description: spec.description.trim() }).toEqual({
        name: spec.name,
        description: expect.stringMatching(/\S/),
      });
    }
  });

  it('the defaults alone form a valid configuration', () => {
    expect(() => parseEnv({})).not.toThrow();
  });

  it('.env.example is exactly what renderEnvExample() gives', () => {
    expect(existsSync(ENV_EXAMPLE)).toBe(true);
    const committed = readFileSync(ENV_EXAMPLE, 'utf8');
    if (committed !== renderEnvExample()) {
      throw new Error(`.env.example is out of date with src/config/env.schema.ts; ${REGENERATE}`);
    }
  });

  it('.env.example names every variable once, and loading it changes nothing', () => {
    const text = renderEnvExample();
    for (const spec of VARIABLES) {
      const line = spec.default === undefined ? `# ${spec.name}=` : `${spec.name}=${spec.default}`;
      expect(text.split('\n').filter((l) => l === line)).toHaveLength(1);
    }
    // A copy of .env.example used as .env must mean the same as no .env at all.
    const fromFile = parseDotenv(text);
    expect(Object.keys(fromFile).sort()).toEqual(
      VARIABLES.filter((v) => v.default !== undefined)
        .map((v) => v.name)
        .sort(),
    );
    expect(parseEnv(fromFile)).toEqual(parseEnv({}));
  });

  it('renders a Markdown table with one row per variable', () => {
    const rows = renderEnvTable().split('\n');
    expect(rows[0]).toBe('| Variable | Default | Description |');
    expect(rows).toHaveLength(VARIABLES.length + 2);
    expect(rows).toContain('| `PORT` | `5000` | HTTP port of the API and Swagger UI. |');
    expect(rows.find((r) => r.startsWith('| `DATABASE_URL` |'))).toMatch(/^\| `DATABASE_URL` \| — \| /);
    expect(rows.find((r) => r.startsWith('| `WEBHOOK_ALLOWED_NETWORKS` |'))).toMatch(/^\| `WEBHOOK_ALLOWED_NETWORKS` \| — \| /);
  });

  it('README.md shows the current table right below the <!-- env-table --> marker', () => {
    if (!existsSync(README)) {
      throw new Error(`README.md is missing: add it with a "${MARKER}" line followed by the output of \`node dist/scripts/env-docs.js table\``);
    }
    const readme = readFileSync(README, 'utf8').replace(/\r\n/g, '\n');
    const at = readme.split('\n').indexOf(MARKER);
    if (at < 0) {
      throw new Error(`README.md has no "${MARKER}" line: put it right above the configuration table (output of \`node dist/scripts/env-docs.js table\`)`);
    }
    const after = readme
      .split('\n')
      .slice(at + 1)
      .join('\n')
      .replace(/^\n+/, '');
    if (!after.startsWith(renderEnvTable() + '\n') && after !== renderEnvTable()) {
      throw new Error(`The table below "${MARKER}" in README.md is out of date; replace it with the output of \`node dist/scripts/env-docs.js table\``);
    }
  });
});
