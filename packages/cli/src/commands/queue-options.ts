import { InvalidArgumentError } from 'commander';

/** A whole number of at least 1 (--attempts, --concurrency). */
export function positiveInt(text: string): number {
  if (!/^\s*\d+\s*$/.test(text) || Number(text) < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return Number(text);
}

/** Seconds, fractions allowed (--backoff, --lock-duration): returned as given, in seconds. */
export function seconds(text: string): number {
  const v = Number(text);
  if (!text.trim() || !Number.isFinite(v) || v < 0) throw new InvalidArgumentError('expected a number of seconds (0 or more)');
  return v;
}
