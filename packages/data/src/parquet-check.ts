import type { FileMetaData, SchemaTree } from 'hyparquet';

/**
 * Checks on a parquet file's footer, pages and page streams that hyparquet does not make, run before
 * hyparquet decodes anything. Each throws a plain Error whose message parseParquet puts after
 * `cannot read parquet: `.
 *
 * Why (hyparquet 1.20.0; tried on 1.33.0, the newest on 2026-12-07: a renamed chunk path is a
 * plain rejection there, but a 2^31 level run still aborts V8, so these checks stay):
 * - readRowGroup (rowgroup.js) starts one promise per column chunk, which calls getSchemaPath for the
 *   chunk's path_in_schema (building the whole schema tree). assembleAsync keeps only chunks whose
 *   first path part names a child of the schema root, and parquetRead awaits only those. A chunk
 *   whose path was corrupted ("id" -> "ie") rejects with "parquet schema element not found" and
 *   nobody handles it: an unhandled rejection, which ends a Node process. So does a schema whose
 *   num_children overruns it ("reading 'name'" of undefined), a second chunk of the same leaf, and a
 *   later row group's chunks when an earlier group's read fails first. Hence: the schema tree is
 *   built and every chunk's path resolved here, inside our own await, and parseParquet reads one
 *   row group per call.
 * - Page headers are trusted: `new Array(num_values)`, `new Uint8Array(uncompressed_page_size)` for
 *   snappy, a missing count read as undefined. Hence: every page header read here, its counts
 *   bounded by the file's size.
 * - readRle (encoding.js) writes a run's count values whatever the array's length, so one corrupt
 *   level or dictionary-index header (2^31) grows an array until V8 aborts the process; and
 *   snappyUncompress can read a literal's length as negative and walk backwards for seconds or
 *   forever. Hence: those streams walked here the way hyparquet walks them (hybrid, snappyOk).
 * Drop what upstream fixes.
 */

/**
 * Rows a file of this many bytes may claim. Run-length encoding can store many rows in a few bytes,
 * but a dataset row carries text; a footer claiming more is corrupt, and honouring it would allocate
 * a row object per claimed row.
 */
export function maxParquetRows(byteLength: number): number {
  return 64 * byteLength + 1024;
}

/** Bytes a decompressed page may take (far above what writers produce, ~1 MB per page). */
export const MAX_PAGE_BYTES = 1 << 28;

/** `tree` is hyparquet's parquetSchema(metadata): building it checks every element's num_children. */
export function checkParquet(bytes: ArrayBuffer, metadata: FileMetaData, tree: SchemaTree, snappy: Snappy): void {
  const maxRows = maxParquetRows(bytes.byteLength);
  const fileRows = Number(metadata.num_rows);
  if (!(fileRows >= 0 && fileRows <= maxRows)) throw new Error(`footer claims ${metadata.num_rows} rows, more than a ${bytes.byteLength}-byte file can hold`);
  let groupRowsTotal = 0;
  for (const group of metadata.row_groups) {
    const groupRows = Number(group.num_rows);
    groupRowsTotal += groupRows;
    if (!(groupRows >= 0 && groupRowsTotal <= maxRows)) throw new Error(`row group claims ${group.num_rows} rows, more than a ${bytes.byteLength}-byte file can hold`);
    const seen = new Set<string>();
    for (const column of group.columns) {
      const meta = column.meta_data;
      if (!meta) throw new Error('column chunk without metadata');
      const path = meta.path_in_schema;
      if (!schemaHasPath(tree, path)) throw new Error(`column chunk '${path.join('.')}' is not in the schema`);
      // assembleAsync reads the first chunk of a leaf column and leaves a second one's read unawaited.
      if (seen.has(path.join('.'))) throw new Error(`column chunk '${path.join('.')}' appears twice in a row group`);
      seen.add(path.join('.'));
      const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
      const end = start + Number(meta.total_compressed_size);
      if (end === start) continue; // an empty chunk (hyparquet's test file issue97.parquet: offsets 0..0)
      if (!(start >= 4 && end > start && end <= bytes.byteLength - 8)) throw new Error(`column chunk '${path.join('.')}' bytes ${start}..${end} lie outside the file`);
      const column_: PageColumn = { name: path.join('.'), codec: meta.codec, boolean: meta.type === 'BOOLEAN', ...levels(tree, path), snappy };
      checkPages(new DataView(bytes, start, end - start), column_, groupRows, maxRows);
    }
  }
}

/** The path resolves from the schema root by names, the way hyparquet's getSchemaPath walks it. */
function schemaHasPath(tree: SchemaTree, path: string[]): boolean {
  let node: SchemaTree | undefined = tree;
  for (const part of path) node = node?.children.find((c) => c.element.name === part);
  return path.length > 0 && node !== undefined;
}

/** Values of a list column may outnumber rows, so pages are bounded by the file's size, like rows. */
function checkPages(view: DataView, col: PageColumn, groupRows: number, maxValues: number): void {
  const column = col.name;
  const reader = { view, offset: 0 };
  let dataValues = 0;
  while (reader.offset < view.byteLength - 1) {
    const at = reader.offset;
    const h = readStruct(reader, 0);
    const where = `column '${column}' page at byte ${view.byteOffset + at}`;
    const compressed = h.get(3);
    const uncompressed = h.get(2);
    if (typeof compressed !== 'number' || compressed < 0 || reader.offset + compressed > view.byteLength) throw new Error(`${where}: page size ${compressed} exceeds its column chunk`);
    // Snappy's densest element (a 64-byte copy in 2 bytes) expands 32-fold; more is corrupt.
    if (typeof uncompressed !== 'number' || uncompressed < 0 || uncompressed > Math.min(MAX_PAGE_BYTES, 32 * compressed + 1024)) throw new Error(`${where}: uncompressed size ${uncompressed} out of range`);
    // hyparquet reads a missing or mistyped count as undefined and loops on it; demand the struct
    // the page type names, with its counts.
    const type = h.get(1);
    const field = type === 0 ? 5 : type === 2 ? 7 : type === 3 ? 8 : undefined;
    if (field === undefined) throw new Error(`${where}: unsupported page type ${type}`);
    {
      const sub = h.get(field);
      const needed = field === 8 ? [1, 2, 3, 4, 5, 6] : [1, 2];
      if (!(sub instanceof Map) || needed.some((k) => typeof sub.get(k) !== 'number')) throw new Error(`${where}: page header incomplete`);
      const n = sub.get(1);
      if (typeof n !== 'number' || n < 0 || n > maxValues) throw new Error(`${where}: ${n} values, more than the file can hold`);
      if (field !== 7) dataValues += n;
      if (field === 8) {
        const def = sub.get(5);
        const rep = sub.get(6);
        if (typeof def !== 'number' || typeof rep !== 'number' || def < 0 || rep < 0 || def + rep > compressed) throw new Error(`${where}: level lengths ${def}/${rep} exceed the page`);
      }
    }
    if (dataValues > maxValues) throw new Error(`column '${column}': pages hold ${dataValues} values, more than the file can hold (row group of ${groupRows} rows)`);
    const page = new Uint8Array(view.buffer, view.byteOffset + reader.offset, compressed);
    if (type === 2 && col.codec === 'SNAPPY' && !snappyOk(page)) throw new Error(`${where}: corrupt snappy data`);
    if (type === 0) checkPageV1(page, h.get(5) as Map<number, Thrift>, uncompressed, col, where);
    if (type === 3) checkPageV2(page, h.get(8) as Map<number, Thrift>, uncompressed, col, where);
    reader.offset += compressed;
  }
}

/** hyparquet's snappyUncompress(input, output). */
export type Snappy = (input: Uint8Array, output: Uint8Array) => void;

interface PageColumn {
  readonly name: string;
  readonly codec: string;
  readonly boolean: boolean;
  readonly maxDef: number;
  readonly maxRep: number;
  readonly snappy: Snappy;
}

/** Max definition/repetition levels along the path, as hyparquet's getMaxDefinitionLevel/getMaxRepetitionLevel count them. */
function levels(tree: SchemaTree, path: string[]): { maxDef: number; maxRep: number } {
  let maxDef = 0;
  let maxRep = 0;
  let node: SchemaTree | undefined = tree;
  for (const part of path) {
    node = node?.children.find((c) => c.element.name === part);
    if (!node) break;
    if (node.element.repetition_type !== 'REQUIRED') maxDef++;
    if (node.element.repetition_type === 'REPEATED') maxRep++;
  }
  return { maxDef, maxRep };
}

const RLE = 3;
const PLAIN_DICTIONARY = 2;
const RLE_DICTIONARY = 8;

/**
 * The page's level and dictionary-index streams, read the way hyparquet 1.20.0's readDataPage reads
 * them (levels with a 4-byte length prefix; indices after a bit-width byte). Levels and booleans are
 * bounded by the page's value count.
 */
function checkPageV1(page: Uint8Array, daph: Map<number, Thrift>, uncompressed: number, col: PageColumn, where: string): void {
  const bytes = decompress(page, uncompressed, col);
  if (!bytes) return;
  const n = daph.get(1) as number;
  const r = { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 };
  if (col.maxRep && !hybrid(r, bitWidth(col.maxRep), n, undefined)) throw new Error(`${where}: repetition levels run past the page's ${n} values`);
  if (col.maxDef && !hybrid(r, bitWidth(col.maxDef), n, undefined)) throw new Error(`${where}: definition levels run past the page's ${n} values`);
  const encoding = daph.get(2);
  if (encoding === RLE || encoding === PLAIN_DICTIONARY || encoding === RLE_DICTIONARY) {
    const width = col.boolean ? 1 : r.offset < bytes.length ? bytes[r.offset++] : 0;
    if (width && !hybrid(r, width, n, col.boolean ? undefined : bytes.length - r.offset)) throw new Error(`${where}: values run past the page's ${n} values`);
  }
}

/** As checkPageV1 for readDataPageV2: levels uncompressed at the page's start, then the values. */
function checkPageV2(page: Uint8Array, d: Map<number, Thrift>, uncompressed: number, col: PageColumn, where: string): void {
  const n = d.get(1) as number;
  const nValues = n - (d.get(2) as number);
  const defLength = d.get(5) as number;
  const repLength = d.get(6) as number;
  const r = { view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 };
  if (col.maxRep && !hybrid(r, bitWidth(col.maxRep), n, repLength)) throw new Error(`${where}: repetition levels run past the page's ${n} values`);
  r.offset = repLength;
  if (col.maxDef && !hybrid(r, bitWidth(col.maxDef), n, defLength)) throw new Error(`${where}: definition levels run past the page's ${n} values`);
  const rest = page.subarray(repLength + defLength);
  const bytes = d.get(7) === false ? rest : decompress(rest, uncompressed - defLength - repLength, col);
  if (!bytes) return;
  const encoding = d.get(4);
  const v = { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 };
  if (encoding === RLE && !hybrid(v, 1, nValues, undefined)) throw new Error(`${where}: values run past the page's ${nValues} values`);
  if (encoding === PLAIN_DICTIONARY || encoding === RLE_DICTIONARY) {
    const width = bytes.length ? bytes[v.offset++] : 0;
    if (!hybrid(v, width, nValues, bytes.length - 1)) throw new Error(`${where}: values run past the page's ${nValues} values`);
  }
}

/** The page as hyparquet will decode it; undefined when hyparquet will reject it itself. */
function decompress(page: Uint8Array, size: number, col: PageColumn): Uint8Array | undefined {
  if (col.codec === 'UNCOMPRESSED') return page;
  if (col.codec !== 'SNAPPY' || !(size >= 0)) return undefined;
  if (!snappyOk(page)) throw new Error(`column '${col.name}': corrupt snappy data`);
  const out = new Uint8Array(size);
  try {
    col.snappy(page, out);
  } catch {
    return undefined;
  }
  return out;
}

const WORD_MASK = [0, 0xff, 0xffff, 0xffffff, 0xffffffff];

/**
 * False when hyparquet's snappyUncompress would go astray: it reads a literal's 4-byte length as an
 * int32, so a set top bit makes the length negative and moves its read position backwards, over
 * and over (seconds to forever). Walks the elements' headers only, without copying.
 */
function snappyOk(input: Uint8Array): boolean {
  const n = input.length;
  let pos = 0;
  while (pos < n && input[pos++] >= 128);
  while (pos < n) {
    const c = input[pos++];
    if (pos >= n) return true;
    if ((c & 3) === 0) {
      let len = (c >>> 2) + 1;
      if (len > 60) {
        if (pos + 3 >= n) return true;
        const lengthSize = len - 60;
        len = ((input[pos] + (input[pos + 1] << 8) + (input[pos + 2] << 16) + (input[pos + 3] << 24)) & WORD_MASK[lengthSize]) + 1;
        if (len <= 0) return false;
        pos += lengthSize;
      }
      pos += len;
    } else {
      pos += (c & 3) === 1 ? 1 : (c & 3) === 2 ? 2 : 4;
    }
  }
  return true;
}

function bitWidth(value: number): number {
  return 32 - Math.clz32(value);
}

/**
 * False when hyparquet's readRleBitPackedHybrid would write a run past `expected` values: readRle
 * stores `count` values whatever the array's length (a header of 2^28 fills 2^28 slots), and
 * readBitPacked loops over a negative or zero-width count without reading a byte. Runs past the
 * end of the bytes are left to hyparquet, which throws a RangeError there.
 */
function hybrid(r: Reader, width: number, expected: number, length: number | undefined): boolean {
  if (!(width >= 0 && width <= 32)) return false;
  if (length === undefined) {
    if (r.offset + 4 > r.view.byteLength) return true;
    length = r.view.getUint32(r.offset, true);
    r.offset += 4;
  }
  const start = r.offset;
  let seen = 0;
  while (seen < expected) {
    // hyparquet's readVarInt: int32 arithmetic, so a long varint wraps as it does there
    let header = 0;
    for (let shift = 0; ; shift += 7) {
      if (r.offset >= r.view.byteLength) return true;
      const b = r.view.getUint8(r.offset++);
      header |= (b & 0x7f) << shift;
      if (!(b & 0x80)) break;
      if (shift > 63) return false;
    }
    if (header & 1) {
      // readBitPacked's own loop, byte for byte, so the next run starts where hyparquet's does.
      let count = (header >> 1) << 3;
      if (count < 0 || (width === 0 && count > expected - seen + 8)) return false;
      if (r.offset < r.view.byteLength) r.offset++;
      else if (width) return true;
      let left = 8;
      let right = 0;
      while (count) {
        if (right > 8) {
          right -= 8;
          left -= 8;
        } else if (left - right < width) {
          if (r.offset >= r.view.byteLength) return true;
          r.offset++;
          left += 8;
        } else {
          if (seen < expected) seen++;
          count--;
          right += width;
        }
      }
    } else {
      const count = header >>> 1;
      if (count > expected - seen) return false;
      const bytes = (width + 7) >> 3;
      if (bytes > r.view.byteLength - r.offset) return true;
      r.offset += bytes;
      seen += count;
    }
  }
  r.offset = start + length;
  return true;
}

type Thrift = number | bigint | boolean | Uint8Array | Map<number, Thrift> | null;

interface Reader {
  view: DataView;
  offset: number;
}

const MAX_DEPTH = 16;

/** A thrift compact-protocol struct: field id -> value (nested structs as Maps; lists skipped). */
function readStruct(r: Reader, depth: number): Map<number, Thrift> {
  if (depth > MAX_DEPTH) throw new Error('page header nested too deep');
  const out = new Map<number, Thrift>();
  let fid = 0;
  for (;;) {
    const byte = byteAt(r);
    const type = byte & 0x0f;
    if (type === 0) return out;
    const delta = byte >> 4;
    fid = delta ? fid + delta : readZigZag(r);
    out.set(fid, readValue(r, type, depth));
  }
}

function readValue(r: Reader, type: number, depth: number): Thrift {
  switch (type) {
    case 1:
      return true;
    case 2:
      return false;
    case 3:
      return byteAt(r);
    case 4:
    case 5:
      return readZigZag(r);
    case 6:
      readVarBig(r);
      return null;
    case 7:
      skip(r, 8);
      return null;
    case 8:
      skip(r, readVarInt(r));
      return null;
    case 9:
    case 10: {
      const head = byteAt(r);
      const size = head >> 4 === 15 ? readVarInt(r) : head >> 4;
      const elem = head & 0x0f;
      // Each element takes at least one byte, so `size` cannot outrun the buffer for long.
      for (let i = 0; i < size; i++) readValue(r, elem === 1 || elem === 2 ? 3 : elem, depth + 1);
      return null;
    }
    case 11: {
      const size = readVarInt(r);
      if (size === 0) return null;
      const kv = byteAt(r);
      for (let i = 0; i < size; i++) {
        readValue(r, kv >> 4 === 1 || kv >> 4 === 2 ? 3 : kv >> 4, depth + 1);
        readValue(r, (kv & 0x0f) === 1 || (kv & 0x0f) === 2 ? 3 : kv & 0x0f, depth + 1);
      }
      return null;
    }
    case 12:
      return readStruct(r, depth + 1);
    default:
      throw new Error(`page header: unknown thrift type ${type}`);
  }
}

function byteAt(r: Reader): number {
  if (r.offset >= r.view.byteLength) throw new Error('page header runs past its column chunk');
  return r.view.getUint8(r.offset++);
}

function skip(r: Reader, n: number): void {
  if (n > r.view.byteLength - r.offset) throw new Error('page header runs past its column chunk');
  r.offset += n;
}

function readVarInt(r: Reader): number {
  let result = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    const b = byteAt(r);
    result += (b & 0x7f) * 2 ** shift;
    if (!(b & 0x80)) return result;
  }
  throw new Error('page header: varint too long');
}

function readVarBig(r: Reader): void {
  for (let i = 0; i < 10; i++) if (!(byteAt(r) & 0x80)) return;
  throw new Error('page header: varint too long');
}

function readZigZag(r: Reader): number {
  const v = readVarInt(r);
  return v % 2 ? -(v + 1) / 2 : v / 2;
}
