import type { FileMetaData, SchemaTree } from 'hyparquet';

/**
 * Checks on a parquet file's footer and page headers that hyparquet does not make, run before
 * hyparquet decodes any page. Each throws a plain Error whose message parseParquet puts after
 * `cannot read parquet: `.
 *
 * Why (hyparquet 1.20.0; 1.33.0 reads rows the same way):
 * - readRowGroup (rowgroup.js) starts one promise per column chunk, and that promise calls
 *   getSchemaPath for the chunk's path_in_schema, which builds the whole schema tree. assembleAsync keeps only chunks whose first path
 *   part names a child of the schema root, and parquetRead awaits only those. A chunk whose path
 *   was corrupted ("id" -> "ie") rejects with "parquet schema element not found" and nobody
 *   handles it: an unhandled rejection, which ends a Node process. So does a schema whose
 *   num_children overruns it ("reading 'name'" of undefined), and a later row group's chunks when
 *   an earlier group's read fails first. Hence: the schema tree is built and every chunk's path
 *   resolved here, inside our own await.
 * - Page headers are trusted: `new Array(num_values)` filled by readRleBitPackedHybrid, and a
 *   `new Uint8Array(uncompressed_page_size)` for snappy. One flipped byte can ask for 2^31 values
 *   (minutes of CPU and gigabytes) or 2 GB of page. Hence: each page header read here first, and its
 *   counts bounded by the row group's row count, which is bounded by the file's size.
 * Drop what upstream fixes (check readRowGroup/assembleAsync and readColumn in a newer release).
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
export function checkParquet(bytes: ArrayBuffer, metadata: FileMetaData, tree: SchemaTree): void {
  const maxRows = maxParquetRows(bytes.byteLength);
  const fileRows = Number(metadata.num_rows);
  if (!(fileRows >= 0 && fileRows <= maxRows)) throw new Error(`footer claims ${metadata.num_rows} rows, more than a ${bytes.byteLength}-byte file can hold`);
  let groupRowsTotal = 0;
  for (const group of metadata.row_groups) {
    const groupRows = Number(group.num_rows);
    groupRowsTotal += groupRows;
    if (!(groupRows >= 0 && groupRowsTotal <= maxRows)) throw new Error(`row group claims ${group.num_rows} rows, more than a ${bytes.byteLength}-byte file can hold`);
    for (const column of group.columns) {
      const meta = column.meta_data;
      if (!meta) throw new Error('column chunk without metadata');
      const path = meta.path_in_schema;
      if (!schemaHasPath(tree, path)) throw new Error(`column chunk '${path.join('.')}' is not in the schema`);
      const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
      const end = start + Number(meta.total_compressed_size);
      if (!(start >= 4 && end >= start && end <= bytes.byteLength - 8)) throw new Error(`column chunk '${path.join('.')}' bytes ${start}..${end} lie outside the file`);
      checkPages(new DataView(bytes, start, end - start), path.join('.'), groupRows, maxRows);
    }
  }
  if (groupRowsTotal !== fileRows) throw new Error(`footer claims ${fileRows} rows but its row groups hold ${groupRowsTotal}`);
}

/** The path resolves from the schema root by names, the way hyparquet's getSchemaPath walks it. */
function schemaHasPath(tree: SchemaTree, path: string[]): boolean {
  let node: SchemaTree | undefined = tree;
  for (const part of path) node = node?.children.find((c) => c.element.name === part);
  return path.length > 0 && node !== undefined;
}

/** Values of a list column may outnumber rows, so pages are bounded by the file's size, like rows. */
function checkPages(view: DataView, column: string, groupRows: number, maxValues: number): void {
  const reader = { view, offset: 0 };
  let dataValues = 0;
  while (reader.offset < view.byteLength - 1) {
    const at = reader.offset;
    const h = readStruct(reader, 0);
    const where = `column '${column}' page at byte ${view.byteOffset + at}`;
    const compressed = h.get(3);
    const uncompressed = h.get(2);
    if (typeof compressed !== 'number' || compressed < 0 || reader.offset + compressed > view.byteLength) throw new Error(`${where}: page size ${compressed} exceeds its column chunk`);
    if (typeof uncompressed !== 'number' || uncompressed < 0 || uncompressed > MAX_PAGE_BYTES) throw new Error(`${where}: uncompressed size ${uncompressed} out of range`);
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
    reader.offset += compressed;
  }
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
