// hyparquet's package.json exports only an `import` condition, which jest's CommonJS resolver
// does not use: map the bare specifier to its node entry (the preset already transforms it).
const fs = require('node:fs');
const path = require('node:path');
const config = require('@bayes-peft/jest-preset')(__dirname);
const dataDir = path.dirname(require.resolve('@bayes-peft/data/package.json'));
const hyparquet = fs.realpathSync(path.join(dataDir, 'node_modules', 'hyparquet'));
config.moduleNameMapper = { ...config.moduleNameMapper, '^hyparquet$': path.join(hyparquet, 'src', 'node.js') };
module.exports = config;
