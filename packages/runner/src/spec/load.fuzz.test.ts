import fc from 'fast-check';
import { stringify } from 'yaml';
import { SpecError } from '@bayes-peft/core';
import { parseSpec } from './load';

/**
 * Hostile run specs (issue 14 item 4): random text, random YAML values, specs with fields of the
 * wrong type, deep nesting, alias bombs and matrix blow-ups. Clear = a SpecError whose message
 * starts with the file name and says "invalid run spec"; else a valid list of runs. In memory
 * (parseSpec takes the text), so no disk. Deep nesting is either shallow enough to parse or past
 * the loader's nesting limits (refused by a scan before parsing): in between, the YAML library
 * takes ~10 ms a case and would double the suite's time.
 */
const SEED = 0x5bec0001;
const NUM_RUNS = 10_000;
const PER_CASE_MS = 1000;
// The suite takes ~10-15 s of CPU; this bound catches a hang, not a slow day.
const SUITE_MS = 40_000;
/** This process's CPU time in ms: other jobs on a shared machine barely move it (they do move wall time), so the bounds catch a hang, not a busy day. */
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
/** Bytes a case may leave on the JS heap and in buffers (garbage not yet collected included): a claimed size or an expansion is never allocated. */
const PER_CASE_BYTES = 64 * 1024 * 1024;
const allocated = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
const FILE = 'fuzz.yaml';

const base = { name: 'demo', model: { path: './model' }, dataset: 'toy', wrapper: { plugin: 'blob', options: { beta: 0.2 } } };

const hostile = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(null, -1, 0, 1e308, '', 'mle', [], {}, true, '__proto__', 'constructor'),
);
const specKey = fc.oneof(
  fc.constantFrom('name', 'model', 'dataset', 'wrapper', 'train', 'train.lr', 'eval', 'eval.bins', 'lora', 'lora.r', 'lora.targets', 'seed', 'matrix', '__proto__', 'constructor'),
  fc.string({ maxLength: 6 }),
);

/** The base spec with a few fields set to wrong values (dotted keys write into sections). */
const mutatedSpec = fc.array(fc.tuple(specKey, hostile), { maxLength: 4 }).map((edits) => {
  const spec: Record<string, unknown> = structuredClone(base);
  for (const [key, value] of edits) {
    const parts = key.split('.');
    let at: Record<string, unknown> = spec;
    for (const p of parts.slice(0, -1)) {
      const next = Object.hasOwn(at, p) ? at[p] : undefined;
      at = next && typeof next === 'object' && !Array.isArray(next) ? (next as Record<string, unknown>) : (Object.defineProperty(at, p, { value: {}, enumerable: true, writable: true, configurable: true }), at[p] as Record<string, unknown>);
    }
    Object.defineProperty(at, parts[parts.length - 1], { value, enumerable: true, writable: true, configurable: true });
  }
  return stringify(spec);
});

/** A matrix of up to 24 axes of up to 6 values: up to 6^24 runs if nothing caps it. */
const matrixSpec = fc
  .array(fc.tuple(fc.constantFrom('seed', 'train.lr', 'lora.r', 'wrapper', 'eval.bins', 'x.y', '', 'matrix'), fc.array(hostile, { maxLength: 6 })), { maxLength: 24 })
  .map((axes) => {
    const matrix: Record<string, unknown> = {};
    axes.forEach(([k, v], i) => (matrix[`${k}${i ? `_${i}` : ''}`] = v));
    // Valid seeds on some axes so the product is reached.
    axes.forEach((_, i) => i % 2 === 0 && (matrix[`seed${i}`] = [1, 2, 3]));
    return stringify({ ...base, matrix });
  });

/** Billion laughs: each level aliases the previous one `fan` times. */
const aliasBomb = fc.tuple(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 2, max: 10 }), fc.boolean()).map(([levels, fan, flow]) => {
  const lines = ['name: demo', 'dataset: toy', 'a0: &a0 ["lol"]'];
  for (let i = 1; i < levels; i++) {
    const refs = Array.from({ length: fan }, () => `*a${i - 1}`);
    lines.push(flow ? `a${i}: &a${i} [${refs.join(', ')}]` : `a${i}: &a${i}\n${refs.map((r) => `  - ${r}`).join('\n')}`);
  }
  lines.push(`model: *a${levels - 1}`);
  return lines.join('\n');
});

/** Flow or block nesting thousands deep. */
// Shallow (parsed) or past the loader's nesting limits (refused by its scan before parsing).
const deep = fc.tuple(fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 300, max: 20_000 })), fc.constantFrom('[', '{a: ', '- ', 'k:\n')).map(([depth, open]) => {
  if (open === '[') return `model: ${'['.repeat(depth)}1${']'.repeat(depth)}`;
  if (open === '{a: ') return `model: ${'{a: '.repeat(depth)}1${'}'.repeat(depth)}`;
  if (open === '- ') return `model:\n${Array.from({ length: Math.min(depth, 2000) }, (_, i) => `${' '.repeat(i * 2)}- `).join('\n')}1`;
  return `model:\n${Array.from({ length: Math.min(depth, 2000) }, (_, i) => `${' '.repeat(i * 2 + 2)}k:`).join('\n')} 1`;
});

const yamlChars = fc.constantFrom(...'ab:-[]{},&*!|>\'"#%@` \n\t?=~0123.\\'.split(''));
const randomText = fc.oneof(
  fc.string({ unit: yamlChars, maxLength: 80 }),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => stringify(v)),
  fc.tuple(fc.string({ maxLength: 5 }), fc.integer({ min: 0, max: 100_000 })).map(([s, n]) => `name: ${'x'.repeat(n)}${s}`), // huge lines
);

const tag = (name: string, a: fc.Arbitrary<string>) => a.map((text) => ({ name, text }));
const specText = fc.oneof(
  { weight: 3, arbitrary: tag('mutated', mutatedSpec) },
  { weight: 1, arbitrary: tag('matrix', matrixSpec) },
  { weight: 1, arbitrary: tag('alias', aliasBomb) },
  { weight: 1, arbitrary: tag('deep', deep) },
  { weight: 3, arbitrary: tag('random', randomText) },
);


describe('run-spec loader under fuzzing', () => {
  it(`ends every one of ${NUM_RUNS} hostile specs in a SpecError naming the file or valid runs`, () => {
    const start = cpuMs();
    let runs = 0;
    let valid = 0;
    fc.assert(
      fc.property(specText, ({ name, text }) => {
        runs++;
        const t0 = cpuMs();
        const m0 = allocated();
        try {
          const loaded = parseSpec(text, FILE);
          valid++;
          expect(loaded.runs.length).toBeGreaterThan(0);
          for (const r of loaded.runs) expect(typeof r.spec.name).toBe('string');
        } catch (e) {
          if (!(e instanceof SpecError)) throw new Error(`not a SpecError: ${(e as Error)?.stack ?? String(e)}`);
          expect(e.message.startsWith(FILE)).toBe(true);
          expect(e.message).toContain('invalid run spec');
          expect(e.issues.length).toBeGreaterThan(0);
        }
        const ms = cpuMs() - t0;
        if (ms > PER_CASE_MS) throw new Error(`parseSpec took ${ms.toFixed(0)} ms (bound ${PER_CASE_MS}) on a ${name} spec: ${JSON.stringify(text.slice(0, 200))}`);
        const grown = allocated() - m0;
        if (grown > PER_CASE_BYTES) throw new Error(`parseSpec allocated ${grown} bytes (bound ${PER_CASE_BYTES}) on a ${name} spec: ${JSON.stringify(text.slice(0, 200))}`);
      }),
      { seed: SEED, numRuns: NUM_RUNS, endOnFailure: true },
    );
    expect(runs).toBe(NUM_RUNS);
    expect(valid).toBeGreaterThan(100);
    expect(cpuMs() - start).toBeLessThan(SUITE_MS);
  }, 90_000);
});
