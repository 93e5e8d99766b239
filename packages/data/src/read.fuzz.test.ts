import fc from 'fast-check';
import { DataFileError, RowError } from './errors';
import { getField, getId, getInteger, getNumber, getString, getStringArray } from './fields';
import { parseParquet, parseRowsText, type DataRow } from './read';

/**
 * Hostile dataset files (issue 14 item 4): .jsonl/.json/.csv text and .parquet bytes with rows of
 * the wrong type, missing fields, huge lines, broken syntax, random bytes and valid parquet files
 * with bytes overwritten, cut or spliced in (magic, footer length, metadata, page headers, data), in memory
 * (parseRowsText / parseParquet are what readRows runs on a file's content). Each file's rows are
 * then read the way dataset plugins read them (getString, getInteger, getStringArray, getId).
 * Clear = a DataFileError whose message starts with the file name, or a RowError starting with the
 * file name and naming the field; else the typed values.
 */
const SEED = 0xda7a0001;
const NUM_RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const PER_CASE_MS = 1000;
const SUITE_MS = 40_000;

const value = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.constant(null)), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), { maxKeys: 2 }),
);
const FIELDS = ['id', 'question', 'label', 'choices', 'score'];
/** A row: usually the expected fields, each sometimes of the wrong type or missing. */
const row = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record(
      {
        id: fc.oneof(fc.string({ minLength: 1, maxLength: 6 }), fc.nat(), value),
        question: fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), value),
        label: fc.oneof(fc.nat({ max: 4 }), value),
        choices: fc.oneof(fc.array(fc.string({ minLength: 1, maxLength: 5 }), { minLength: 2, maxLength: 4 }), value),
        score: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), value),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 6 }), value, { maxKeys: 4 }) },
  { weight: 1, arbitrary: value },
);
const rows = fc.array(row, { maxLength: 6 });

const hugeLine = fc.integer({ min: 70_000, max: 400_000 }).map((n) => `{"id": "a", "question": "${'q'.repeat(n)}"}`);
const garbage = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: fc.constantFrom(...'{}[]",:\\\n\r 0a-'.split('')), maxLength: 40 }));

function csvCell(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v) ?? '';
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

type Case = { format: '.jsonl' | '.json' | '.csv'; text: string } | { format: '.parquet'; bytes: Uint8Array };

const jsonl = fc.oneof(
  { weight: 4, arbitrary: rows.map((rs) => rs.map((r) => JSON.stringify(r)).join('\n')) },
  { weight: 1, arbitrary: fc.tuple(rows, garbage, fc.nat()).map(([rs, g, at]) => { const ls = rs.map((r) => JSON.stringify(r)); ls.splice(at % (ls.length + 1), 0, g); return ls.join('\r\n'); }) },
  { weight: 1, arbitrary: hugeLine },
  { weight: 1, arbitrary: garbage },
);
const json = fc.oneof(
  rows.map((rs) => JSON.stringify(rs)),
  rows.map((rs) => JSON.stringify({ data: rs })),
  rows.map((rs) => JSON.stringify({ rows: rs.map((r, i) => ({ row_idx: i, row: r })) })),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  rows.map((rs) => rs.map((r) => JSON.stringify(r)).join('\n')),
  hugeLine,
  garbage,
);
const csv = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.tuple(fc.subarray(FIELDS), rows).map(([cols, rs]) =>
      [cols.join(','), ...rs.map((r) => cols.map((c) => csvCell(r && typeof r === 'object' && !Array.isArray(r) ? (r as Record<string, unknown>)[c] : r)).join(','))].join('\n'),
    ),
  },
  { weight: 1, arbitrary: fc.tuple(fc.array(fc.string({ maxLength: 5 }), { maxLength: 4 }), fc.array(fc.array(fc.string({ maxLength: 5 }), { maxLength: 5 }), { maxLength: 4 })).map(([h, rs]) => [h, ...rs].map((r) => r.join(',')).join('\n')) },
  { weight: 1, arbitrary: hugeLine.map((l) => `question\n${l.replace(/"/g, '')}`) },
  { weight: 1, arbitrary: garbage },
);

let parquetSeed: Uint8Array;
let parquetEdits = 0;
/** Byte ranges [start, end) of the seed file's parts, filled in beforeAll from its footer. */
const parquetParts: Record<'magic' | 'footerLength' | 'metadata' | 'pageHeader' | 'data', [number, number][]> = { magic: [], footerLength: [], metadata: [], pageHeader: [], data: [] };
const part = fc.constantFrom(...(Object.keys(parquetParts) as (keyof typeof parquetParts)[]));
const parquet = fc.oneof(
  fc.constant({ kind: 'valid' as const }),
  fc.record({ kind: fc.constant('cut' as const), n: fc.nat({ max: 400 }) }),
  fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 200 }) }),
  fc.record({ kind: fc.constant('footer' as const), len: fc.oneof(fc.nat(), fc.constantFrom(0xffffffff, 2 ** 31, 1e9)) }),
  // Bytes overwritten in, cut out of or spliced into one part of a valid file (page headers claiming
  // 2^31 values, schema paths that no longer match, ...), sometimes in two places.
  {
    weight: 6,
    arbitrary: fc.array(
      fc.record({
        kind: fc.constant('edit' as const),
        part,
        at: fc.nat(),
        remove: fc.oneof({ weight: 3, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.nat({ max: 24 }) }),
        insert: fc.uint8Array({ minLength: 1, maxLength: 6 }),
      }),
      { minLength: 1, maxLength: 2 },
    ),
  },
);
type ParquetCase = typeof parquet extends fc.Arbitrary<infer T> ? T : never;
type Edit = { kind: 'edit'; part: keyof typeof parquetParts; at: number; remove: number; insert: Uint8Array };
function parquetBytes(m: ParquetCase): Uint8Array {
  const base = parquetSeed;
  if (Array.isArray(m)) {
    parquetEdits++;
    return m.reduce(applyEdit, base);
  }
  if (m.kind === 'cut') return base.slice(0, Math.max(0, base.length - m.n));
  if (m.kind === 'random') return m.bytes;
  const out = base.slice();
  // The 4-byte footer length before the trailing 'PAR1': a file claiming a gigabyte of metadata.
  if (m.kind === 'footer') new DataView(out.buffer).setUint32(out.length - 8, m.len >>> 0, true);
  return out;
}
/** remove -1 overwrites insert.length bytes at the position; else cuts `remove` bytes and splices `insert` in. */
function applyEdit(bytes: Uint8Array, e: Edit): Uint8Array {
  const ranges = parquetParts[e.part];
  const [start, end] = ranges[e.at % ranges.length];
  const at = Math.min(start + ((e.at >>> 4) % Math.max(1, end - start)), bytes.length);
  if (e.remove < 0) {
    const out = bytes.slice();
    out.set(e.insert.subarray(0, out.length - at), at);
    return out;
  }
  return Uint8Array.from([...bytes.subarray(0, at), ...e.insert, ...bytes.subarray(at + e.remove)]);
}

const testCase: fc.Arbitrary<Case> = fc.oneof(
  { weight: 3, arbitrary: jsonl.map((text) => ({ format: '.jsonl' as const, text })) },
  { weight: 2, arbitrary: json.map((text) => ({ format: '.json' as const, text })) },
  { weight: 3, arbitrary: csv.map((text) => ({ format: '.csv' as const, text })) },
  { weight: 2, arbitrary: parquet.map((m) => ({ format: '.parquet' as const, get bytes() { return parquetBytes(m); } })) },
);

/** What a dataset plugin reads from a row; each getter either returns a typed value or throws a RowError. */
function readAsPlugin(r: DataRow): void {
  for (const read of [
    () => getId(r),
    () => getString(r, 'question'),
    () => getInteger(r, 'label'),
    () => getStringArray(r, 'choices', { minLength: 2 }),
    () => getNumber(r, 'score'),
    () => getField(r, 'missing'),
  ]) {
    try {
      read();
    } catch (e) {
      if (!(e instanceof RowError)) throw new Error(`not a RowError: ${(e as Error)?.stack ?? String(e)}`);
      expect(e.message.startsWith(r.source.file)).toBe(true);
      expect(e.message).toContain(`field '${e.field}'`);
    }
  }
}

describe('dataset row readers under fuzzing', () => {
  beforeAll(async () => {
    const { parquetWriteBuffer } = await import('hyparquet-writer');
    const S = (name: string) => ({ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' }) as const;
    const schema = [
      { name: 'root', num_children: 4 },
      S('id'),
      S('question'),
      { name: 'label', type: 'INT64', repetition_type: 'OPTIONAL' },
      { name: 'choices', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      S('element'),
    ];
    parquetSeed = new Uint8Array(
      parquetWriteBuffer({
        schema: schema as never,
        columnData: [
          { name: 'id', data: ['a', 'b', null] },
          { name: 'question', data: ['Which?', null, 'Why?'] },
          { name: 'label', data: [BigInt(1), BigInt(2) ** BigInt(60), null] },
          { name: 'choices', data: [['x', 'y'], null, ['z']] },
        ],
      }),
    );
    const { parquetMetadata } = await import('hyparquet');
    const n = parquetSeed.length;
    const metadataLength = new DataView(parquetSeed.buffer).getUint32(n - 8, true);
    const chunkStarts = parquetMetadata(parquetSeed.slice().buffer).row_groups.flatMap((g) => g.columns.map((c) => Number(c.meta_data!.dictionary_page_offset || c.meta_data!.data_page_offset)));
    parquetParts.magic.push([0, 4], [n - 4, n]);
    parquetParts.footerLength.push([n - 8, n - 4]);
    parquetParts.metadata.push([n - 8 - metadataLength, n - 8]);
    parquetParts.pageHeader.push(...chunkStarts.map((s): [number, number] => [s, s + 24]));
    parquetParts.data.push([4, n - 8 - metadataLength]);
  });

  it(`ends every one of ${NUM_RUNS} hostile row files in a DataFileError/RowError naming the file or typed rows`, async () => {
    const start = performance.now();
    let runs = 0;
    let rowsRead = 0;
    await fc.assert(
      fc.asyncProperty(testCase, async (c) => {
        runs++;
        const name = `data/fuzz${c.format}`;
        const t0 = performance.now();
        let parsed: DataRow[] | undefined;
        try {
          if (c.format === '.parquet') {
            const bytes = c.bytes;
            parsed = await parseParquet(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, name);
          } else {
            parsed = parseRowsText(c.text, c.format, name);
          }
        } catch (e) {
          if (!(e instanceof DataFileError)) throw new Error(`not a DataFileError: ${(e as Error)?.stack ?? String(e)}`);
          expect(e.message.startsWith(name)).toBe(true);
          expect(e.file).toBe(name);
        }
        for (const r of parsed ?? []) {
          expect(r.data !== null && typeof r.data === 'object' && !Array.isArray(r.data)).toBe(true);
          expect(r.source.file).toBe(name);
          readAsPlugin(r);
          rowsRead++;
        }
        const ms = performance.now() - t0;
        if (ms > PER_CASE_MS) throw new Error(`took ${ms.toFixed(0)} ms (bound ${PER_CASE_MS})`);
      }),
      { seed: SEED, numRuns: NUM_RUNS, endOnFailure: true, timeout: PER_CASE_MS * 5 },
    );
    expect(runs).toBe(NUM_RUNS);
    expect(rowsRead).toBeGreaterThan(NUM_RUNS / 10);
    expect(parquetEdits).toBeGreaterThan(NUM_RUNS / 20);
    expect(performance.now() - start).toBeLessThan(SUITE_MS);
  }, 90_000);
});
