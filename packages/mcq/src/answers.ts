// Row fields -> class indices, each mistake a RowError naming the file, the line and the field.
import { getField, getStringArray, RowError, typeName, type DataRow } from '@bayes-peft/data';
import { letterLabels, letterRange } from './labels';

const UNLABELLED = 'an unlabelled row (the hub serves some test splits without answers; evaluate on a labelled split)';

/** Choice texts and their labels from `<field>.text` / `<field>.label` (the hub's ARC, OpenBookQA, CommonsenseQA schema). */
export function readLabeledChoices(row: DataRow, options: { field?: string; max: number }): { texts: string[]; labels: string[] } {
  const field = options.field ?? 'choices';
  const texts = getStringArray(row, `${field}.text`, { minLength: 1 });
  const labels = getStringArray(row, `${field}.label`, { minLength: 1 });
  if (texts.length !== labels.length) {
    throw new RowError(row.source, field, `${field}.text has ${texts.length} items but ${field}.label has ${labels.length}`);
  }
  if (texts.length > options.max) {
    throw new RowError(row.source, `${field}.text`, `expected at most ${options.max} choices (labels ${letterRange(options.max)}), got ${texts.length}`);
  }
  return { texts, labels };
}

/**
 * The class of a letter answer key: ord(key) - ord('A') (the reference's formula), for a key
 * among the first `count` letters and among the row's own choice labels.
 */
export function letterAnswer(row: DataRow, field: string, options: { count: number; choiceLabels?: readonly string[] }): number {
  const v = getField(row, field);
  if (typeof v !== 'string') throw new RowError(row.source, field, `expected a string, got ${typeName(v)}`);
  if (v.trim() === '') throw new RowError(row.source, field, `empty: ${UNLABELLED}`);
  const letters = letterLabels(options.count);
  const cls = letters.indexOf(v);
  if (cls < 0) throw new RowError(row.source, field, `expected one of ${letterRange(options.count)}, got ${JSON.stringify(v)}`);
  if (options.choiceLabels && !options.choiceLabels.includes(v)) {
    throw new RowError(row.source, field, `'${v}' is not one of the choice labels (${options.choiceLabels.join(', ')})`);
  }
  return cls;
}

/**
 * The class of an index answer: an integer (or a string holding one, as the hub's WinoGrande and
 * HellaSwag serve it) in [base, base + count), minus `base`.
 */
export function indexAnswer(row: DataRow, field: string, options: { count: number; base?: number }): number {
  const base = options.base ?? 0;
  const v = getField(row, field);
  const n = typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v;
  const range = `an integer in [${base}, ${base + options.count - 1}]`;
  if (v === '' || n === -1) throw new RowError(row.source, field, `${JSON.stringify(v)}: ${UNLABELLED}`);
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new RowError(row.source, field, `expected ${range}, got ${typeName(v)}`);
  if (n < base || n >= base + options.count) throw new RowError(row.source, field, `expected ${range}, got ${JSON.stringify(v)}`);
  return n - base;
}
