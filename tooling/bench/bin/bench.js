#!/usr/bin/env node
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const cli = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(cli)) {
  process.stderr.write('bench: tooling/bench is not built; run `pnpm build` (or `pnpm exec tsc -b tooling/bench`) first\n');
  process.exit(1);
}
require(cli)
  .main(process.argv.slice(2), __filename)
  .then((code) => {
    process.exitCode = code;
  })
  .catch((e) => {
    process.stderr.write(`bench: ${e && e.stack ? e.stack : e}\n`);
    process.exitCode = 1;
  });
