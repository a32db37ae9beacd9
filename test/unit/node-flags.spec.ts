import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_FLAGS } from '../../src/node-flags';

describe('Node.js flags of the service', () => {
  const scripts = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).scripts as Record<string, string>;

  it.each(['start', 'start:dev'])('npm run %s launches the service with NODE_FLAGS (tests and the benchmark use the same list)', (name) => {
    const launch = scripts[name].split('&&').pop()!.trim();
    expect(launch).toBe(`node ${NODE_FLAGS.join(' ')} dist/src/main.js`);
  });
});
