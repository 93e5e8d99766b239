// @bayes-peft/bench: the harness behind `pnpm bench`.
export * from './harness';
export * from './models';
export { main, parseArgs, USAGE, type CliArgs } from './cli';
export { formatTables } from './table';
