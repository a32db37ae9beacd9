/**
 * Renders the configuration documentation from the one table of environment
 * variables (`VARIABLES` in src/config/env.schema.ts): the commented
 * `.env.example` and the README's "Configuration" table. test/unit/env-docs.spec.ts
 * fails when either drifts from the table.
 *
 *   node dist/scripts/env-docs.js example > .env.example
 *   node dist/scripts/env-docs.js table      # paste below <!-- env-table --> in README.md
 */
import { VARIABLES, VariableSpec } from '../src/config/env.schema';

const ENV_EXAMPLE_HEADER = [
  '# ATLAS Webhooks configuration.',
  '#',
  '# Every line is optional. A variable that is not set takes the default shown',
  '# here; a commented-out one (`# NAME=`) has no default and stays unset unless',
  '# you give it a value. Copy this file to `.env` and keep only what you change:',
  '# variables set in the real environment win over `.env`.',
  '#',
  '# Generated from src/config/env.schema.ts by',
  '#   node dist/scripts/env-docs.js example > .env.example',
  '# (test/unit/env-docs.spec.ts fails when the two disagree).',
];

function hasDefault(spec: VariableSpec): spec is VariableSpec & { default: string } {
  return spec.default !== undefined;
}

/** One-line text: descriptions are written on a single comment line / table cell. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** The whole `.env.example`, ending with a newline. */
export function renderEnvExample(): string {
  const lines = [...ENV_EXAMPLE_HEADER];
  for (const spec of VARIABLES) {
    lines.push('');
    lines.push(`# ${oneLine(spec.description)}`);
    lines.push(hasDefault(spec) ? `${spec.name}=${spec.default}` : `# ${spec.name}=`);
  }
  return lines.join('\n') + '\n';
}

function cell(text: string): string {
  return oneLine(text).replace(/\|/g, '\\|');
}

/** The Markdown table for the README (no trailing newline). Empty and missing defaults show as `—`. */
export function renderEnvTable(): string {
  const rows = ['| Variable | Default | Description |', '| --- | --- | --- |'];
  for (const spec of VARIABLES) {
    const def = hasDefault(spec) && spec.default !== '' ? `\`${cell(spec.default)}\`` : '—';
    rows.push(`| \`${spec.name}\` | ${def} | ${cell(spec.description)} |`);
  }
  return rows.join('\n');
}

function main(argv: string[]): number {
  const [what, ...rest] = argv;
  if (rest.length === 0 && what === 'example') {
    process.stdout.write(renderEnvExample());
    return 0;
  }
  if (rest.length === 0 && what === 'table') {
    process.stdout.write(renderEnvTable() + '\n');
    return 0;
  }
  process.stderr.write(
    'Usage: node dist/scripts/env-docs.js example > .env.example\n' + '       node dist/scripts/env-docs.js table    (the README "Configuration" table)\n',
  );
  return what === '--help' || what === '-h' ? 0 : 2;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
