import { readEnv } from '@bayes-peft/env';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

/** Writes to stderr so stdout stays free for tables and --json output. */
export const consoleLogger: Logger = {
  info: (m) => process.stderr.write(`${m}\n`),
  warn: (m) => process.stderr.write(`warning: ${m}\n`),
  debug: (m) => {
    if (readEnv('BAYES_PEFT_DEBUG')) process.stderr.write(`debug: ${m}\n`);
  },
};

export const silentLogger: Logger = { info() {}, warn() {}, debug() {} };
