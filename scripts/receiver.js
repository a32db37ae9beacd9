#!/usr/bin/env node
'use strict';
/**
 * Plain-JS launcher behind `npm run receiver`: the receiver itself is
 * TypeScript (scripts/receiver.ts), compiled by `npm run build` into
 * dist/scripts/receiver.js.
 */
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const built = join(__dirname, '..', 'dist', 'scripts', 'receiver.js');

if (!existsSync(built)) {
  if (require.main === module) {
    process.stderr.write('The receiver is not built yet. Run `npm run build` first.\n');
    process.exit(1);
  }
  throw new Error('dist/scripts/receiver.js is missing. Run `npm run build` first.');
}

const receiver = require(built);
if (require.main === module) {
  receiver.main(process.argv.slice(2));
} else {
  module.exports = receiver;
}
