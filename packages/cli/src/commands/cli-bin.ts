import * as path from 'node:path';

/**
 * This CLI's own script (bin/bayes-peft.js): the queue lists a spec's runs and starts each run
 * with it, so a worker runs exactly the code that enqueued. From dist/commands/ and
 * src/commands/ alike it is two folders up.
 */
export const CLI_BIN = path.resolve(__dirname, '..', '..', 'bin', 'bayes-peft.js');
