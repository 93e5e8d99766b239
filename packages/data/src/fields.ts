// Typed field access for dataset plugins: every wrong or missing field becomes a RowError that
// names the file, the line (or row) and the field.
import { RowError } from './errors';
import { isPlainObject, typeName, type DataRow } from './read';

const MISSING = Symbol('missing');

function lookup(data: unknown, field: string): unknown {
  let cur: unknown = data;
  for (const key of field.split('.')) {
    if (!isPlainObject(cur) || !(key in cur)) return MISSING;
    cur = cur[key];
  }
  return cur;
}

/** The value at a dotted path (`choices.text`); throws when the field is absent. */
export function getField(row: DataRow, field: string): unknown {
  const v = lookup(row.data, field);
  if (v === MISSING) {
    const keys = Object.keys(row.data);
    throw new RowError(row.source, field, `missing (the row has ${keys.length ? keys.join(', ') : 'no fields'})`);
  }
  return v;
}

export function hasField(row: DataRow, field: string): boolean {
  return lookup(row.data, field) !== MISSING;
}

export function getString(row: DataRow, field: string, options: { allowEmpty?: boolean } = {}): string {
  const v = getField(row, field);
  if (typeof v !== 'string') throw new RowError(row.source, field, `expected a string, got ${typeName(v)}`);
  if (!options.allowEmpty && v.trim() === '') throw new RowError(row.source, field, 'expected a non-empty string, got ""');
  return v;
}

export function getNumber(row: DataRow, field: string): number {
  const v = getField(row, field);
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RowError(row.source, field, `expected a number, got ${typeName(v)}`);
  return v;
}

/** An integer; CSV cells ("3") are accepted when they hold one. */
export function getInteger(row: DataRow, field: string): number {
  const v = getField(row, field);
  const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new RowError(row.source, field, `expected an integer, got ${typeName(v)}`);
  return n;
}

/** A boolean; CSV cells "true"/"false" are accepted. */
export function getBoolean(row: DataRow, field: string): boolean {
  const v = getField(row, field);
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'True') return true;
  if (v === 'false' || v === 'False') return false;
  throw new RowError(row.source, field, `expected a boolean, got ${typeName(v)}`);
}

export function getStringArray(row: DataRow, field: string, options: { minLength?: number; allowEmptyItems?: boolean } = {}): string[] {
  const v = getField(row, field);
  if (!Array.isArray(v)) throw new RowError(row.source, field, `expected an array of strings, got ${typeName(v)}`);
  v.forEach((item, i) => {
    if (typeof item !== 'string') throw new RowError(row.source, `${field}[${i}]`, `expected a string, got ${typeName(item)}`);
  });
  if (options.minLength !== undefined && v.length < options.minLength) {
    throw new RowError(row.source, field, `expected at least ${options.minLength} items, got ${v.length}`);
  }
  return v as string[];
}

/** The row's string id, or `<file-stem>:<index>` when the field is absent. */
export function getId(row: DataRow, field = 'id', prefix?: string): string {
  const v = lookup(row.data, field);
  if (v === MISSING || v === null || v === undefined) return `${prefix ?? 'row'}-${row.source.index}`;
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  throw new RowError(row.source, field, `expected a string or number id, got ${typeName(v)}`);
}
