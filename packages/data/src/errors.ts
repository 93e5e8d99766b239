import { UserError } from '@bayes-peft/core';

/** Where a row came from: its file, and its 1-based line (text formats) or 0-based index. */
export interface RowSource {
  readonly file: string;
  /** 1-based line in .jsonl/.csv files; absent for .json arrays and parquet. */
  readonly line?: number;
  /** 0-based position of the row in its file. */
  readonly index: number;
}

/** `file line 17` or, without a line, `file row 17` (1-based either way). */
export function describeSource(src: RowSource): string {
  return src.line !== undefined ? `${src.file} line ${src.line}` : `${src.file} row ${src.index + 1}`;
}

/** A file that cannot be read or parsed as rows at all. */
export class DataFileError extends UserError {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly detail: string,
  ) {
    super(`${file}${line !== undefined ? ` line ${line}` : ''}: ${detail}`);
    this.name = 'DataFileError';
  }
}

/**
 * A row a dataset plugin cannot use: a field missing or of the wrong type, e.g.
 * `data/arc.jsonl line 17: field 'answerKey': expected a string, got null`.
 */
export class RowError extends UserError {
  constructor(
    readonly source: RowSource,
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${describeSource(source)}: field '${field}': ${detail}`);
    this.name = 'RowError';
  }
}

/** A split with no rows (empty files, or a subset of 0). */
export class EmptySplitError extends UserError {
  constructor(readonly what: string, readonly files: readonly string[]) {
    super(`${what} has no rows${files.length ? ` (files: ${files.join(', ')})` : ''}`);
    this.name = 'EmptySplitError';
  }
}
