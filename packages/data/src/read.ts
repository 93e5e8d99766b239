import { promises as fs } from 'node:fs';
import { parse as parseCsvSync } from 'csv-parse/sync';
import { DataFileError, type RowSource } from './errors';
import { checkParquet } from './parquet-check';

export type RowValues = Record<string, unknown>;

/** One row and where it came from, so a plugin's complaint can name the file and line. */
export interface DataRow<T extends RowValues = RowValues> {
  readonly data: T;
  readonly source: RowSource;
}

export const ROW_FORMATS = ['.jsonl', '.ndjson', '.json', '.parquet', '.csv'] as const;
export type RowFormat = (typeof ROW_FORMATS)[number];

export function rowFormatOf(file: string): RowFormat | null {
  const lower = file.toLowerCase();
  return ROW_FORMATS.find((e) => lower.endsWith(e)) ?? null;
}

export interface ReadRowsOptions {
  /** Name used in errors and row sources instead of the path (e.g. a shorter relative path). */
  readonly displayName?: string;
}

/**
 * Every row of one file: `.jsonl`/`.ndjson` (one object a line; blank lines skipped), `.json` (an
 * array, `{data: [...]}`, `{rows: [...]}`, or JSON lines, which the hub's `to_json` writes),
 * `.parquet` (hyparquet; nested struct/list columns become objects/arrays, int64 becomes number)
 * or `.csv` (header row; values stay strings). An empty file gives no rows; a file that cannot be
 * parsed throws DataFileError with the file and, for text formats, the 1-based line.
 */
export async function readRows(file: string, options: ReadRowsOptions = {}): Promise<DataRow[]> {
  const name = options.displayName ?? file;
  const format = rowFormatOf(file);
  if (!format) throw new DataFileError(name, undefined, `unsupported row file type (supported: ${ROW_FORMATS.join(', ')})`);
  if (format === '.parquet') return readParquet(file, name);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new DataFileError(name, undefined, `cannot read: ${(e as Error).message}`);
  }
  return parseRowsText(text, format, name);
}

/** The rows of a text format's content (`file` names it in errors and row sources). */
export function parseRowsText(text: string, format: Exclude<RowFormat, '.parquet'>, file: string): DataRow[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  switch (format) {
    case '.jsonl':
    case '.ndjson':
      return parseJsonLines(text, file);
    case '.json':
      return parseJson(text, file);
    case '.csv':
      return parseCsv(text, file);
  }
}

export function parseJsonLines(text: string, file: string): DataRow[] {
  const rows: DataRow[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    if (!line.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new DataFileError(file, i + 1, `invalid JSON: ${(e as Error).message}`);
    }
    if (!isPlainObject(value)) throw new DataFileError(file, i + 1, `expected a JSON object, got ${typeName(value)}`);
    rows.push({ data: value, source: { file, line: i + 1, index: rows.length } });
  }
  return rows;
}

function parseJson(text: string, file: string): DataRow[] {
  if (!text.trim()) return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    // Hub exports (`Dataset.to_json`) are JSON lines under a .json name.
    const first = text.trimStart().split('\n', 1)[0];
    if (first.trim().startsWith('{') && isJsonObject(first)) return parseJsonLines(text, file);
    const pos = /position (\d+)/.exec((e as Error).message);
    const line = pos ? text.slice(0, Number(pos[1])).split('\n').length : undefined;
    throw new DataFileError(file, line, `invalid JSON: ${(e as Error).message}`);
  }
  let items: unknown = value;
  if (isPlainObject(value)) {
    items = Array.isArray(value.data) ? value.data : Array.isArray(value.rows) ? value.rows : undefined;
    if (!items) {
      throw new DataFileError(file, undefined, `expected an array of rows, or an object with 'data' or 'rows' (keys: ${Object.keys(value).slice(0, 8).join(', ') || 'none'})`);
    }
  }
  if (!Array.isArray(items)) throw new DataFileError(file, undefined, `expected an array of rows, got ${typeName(value)}`);
  return items.map((item, index) => {
    // The datasets-server rows API wraps each row: {row_idx, row: {...}}.
    const row = isPlainObject(item) && isPlainObject(item.row) && 'row_idx' in item ? item.row : item;
    if (!isPlainObject(row)) throw new DataFileError(file, undefined, `row ${index + 1}: expected an object, got ${typeName(row)}`);
    return { data: row, source: { file, index } };
  });
}

function parseCsv(text: string, file: string): DataRow[] {
  let records: { record: RowValues; info: { lines: number } }[];
  try {
    records = parseCsvSync(text, { columns: true, skip_empty_lines: true, info: true, relax_quotes: false, trim: false }) as never;
  } catch (e) {
    const line = (e as { lines?: number }).lines;
    throw new DataFileError(file, line, `invalid CSV: ${(e as Error).message.replace(/^Invalid [^:]*:\s*/, '')}`);
  }
  return records.map(({ record, info }, index) => ({ data: record, source: { file, line: info.lines, index } }));
}

async function readParquet(file: string, name: string): Promise<DataRow[]> {
  // hyparquet is ESM-only: a dynamic import keeps this package loadable from CommonJS.
  const { asyncBufferFromFile } = await import('hyparquet');
  let buffer: Awaited<ReturnType<typeof asyncBufferFromFile>>;
  try {
    buffer = await asyncBufferFromFile(file);
  } catch (e) {
    throw new DataFileError(name, undefined, `cannot read parquet: ${(e as Error).message ?? String(e)}`);
  }
  return parseParquet(buffer, name);
}

/** The rows of parquet content: a whole file in memory, or hyparquet's AsyncBuffer over one. */
export async function parseParquet(buffer: ArrayBuffer | { byteLength: number; slice(start: number, end?: number): ArrayBuffer | Promise<ArrayBuffer> }, name: string): Promise<DataRow[]> {
  const { parquetMetadata, parquetReadObjects, parquetSchema, snappyUncompress } = await import('hyparquet');
  let objects: Record<string, unknown>[];
  try {
    // Whole file in memory: checkParquet reads every page header before hyparquet decodes a page.
    const bytes = buffer instanceof ArrayBuffer ? buffer : await buffer.slice(0, buffer.byteLength);
    // geoparquet: false because markGeoColumns (hyparquet 1.20.0) loops forever on a negative
    // num_children; datasets have no geometry columns to mark.
    const metadata = parquetMetadata(bytes, { geoparquet: false });
    checkParquet(bytes, metadata, parquetSchema(metadata), snappyUncompress);
    // One row group per call: parquetRead (hyparquet 1.20.0) awaits the groups one after another,
    // so when one fails the later groups' column reads reject with nobody listening (an unhandled
    // rejection ends the process). Within a group every chunk's read is awaited, given the checks.
    objects = [];
    for (const group of metadata.row_groups) {
      if (Number(group.num_rows) > 0) objects = objects.concat(await parquetReadObjects({ file: bytes, metadata: { ...metadata, row_groups: [group], num_rows: group.num_rows } }));
    }
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    const hint = /compression|codec/i.test(msg) ? ' (only snappy and uncompressed parquet are supported)' : '';
    throw new DataFileError(name, undefined, `cannot read parquet: ${msg}${hint}`);
  }
  return objects.map((o, index) => ({ data: normalizeValue(o) as RowValues, source: { file: name, index } }));
}

/** int64 columns arrive as BigInt: numbers when they fit, strings otherwise; typed arrays to plain arrays. */
function normalizeValue(v: unknown): unknown {
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(normalizeValue);
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>, normalizeValue);
  if (v instanceof Date) return v.toISOString();
  if (isPlainObject(v)) {
    const out: RowValues = {};
    for (const [k, x] of Object.entries(v)) out[k] = normalizeValue(x);
    return out;
  }
  return v;
}

function isJsonObject(line: string): boolean {
  try {
    return isPlainObject(JSON.parse(line));
  } catch {
    return false;
  }
}

export function isPlainObject(v: unknown): v is RowValues {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** `null`, `a string ("x")`, `a number (3)`, `an array`, `an object`, ... for messages. */
export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return `an array (length ${v.length})`;
  switch (typeof v) {
    case 'string':
      return `a string (${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)})`;
    case 'number':
    case 'bigint':
      return `a number (${v})`;
    case 'boolean':
      return `a boolean (${v})`;
    default:
      return 'an object';
  }
}
