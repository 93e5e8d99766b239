import { promises as fs, existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { parseSafetensors, SafetensorsError, serializeSafetensors } from '@bayes-peft/tensor';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, BAYES_PEFT_META, loadPeftAdapter, parsePeftConfig, parsePeftMeta, PeftAdapterError, type PeftAdapterFiles } from './peft-format';

/**
 * Hostile PEFT adapter folders (issue 14 item 4): adapter_config.json, adapter_model.safetensors
 * and (maybe) bayes_peft.json. Clear = a PeftAdapterError whose message starts with the config or
 * meta file, or a SafetensorsError starting with the weights file; else a valid adapter.
 * The 10 000 cases go through loadPeftAdapter's parts in memory (parsePeftConfig, parseSafetensors,
 * which shares its header checks with the file reader, parsePeftMeta): writing three files per
 * case took ~45 s on a busy 2-core machine. DISK_RUNS cases then go through loadPeftAdapter
 * itself in one reused folder (on /dev/shm when there is one), to check the parts are wired up.
 */
const SEED = 0x9ef7f00d;
const NUM_RUNS = 10_000;
const DISK_RUNS = 300;
const PER_CASE_MS = 1000;
/** Bytes a case may leave on the JS heap and in buffers (garbage not yet collected included): a claimed size or an expansion is never allocated. */
const PER_CASE_BYTES = 64 * 1024 * 1024;
const allocated = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
const SUITE_MS = 20_000;
/** This process's CPU time in ms: other jobs on a shared machine barely move it (they do move wall time), so the bounds catch a hang, not a busy day. */
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const hostile = fc.oneof(
  fc.integer({ min: -4, max: 64 }),
  fc.constantFrom(0, -1, 0.5, 1e12, 1e308, Number.MAX_SAFE_INTEGER, 'q_proj', '8', '', null, true, [], {}),
  fc.double(),
  fc.string({ maxLength: 6 }),
);
const moduleName = fc.oneof(
  fc.constantFrom('q_proj', 'k_proj', 'v_proj', 'o_proj', 'lm_head', 'model.layers.0.self_attn.q_proj', 'gate_proj', 'nope'),
  fc.string({ maxLength: 6 }),
);

const config = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record({
        peft_type: fc.constant('LORA'),
        r: fc.integer({ min: 1, max: 64 }),
        lora_alpha: fc.integer({ min: 1, max: 64 }),
        lora_dropout: fc.double({ min: 0, max: 1, noNaN: true }),
        target_modules: fc.subarray(['q_proj', 'v_proj', 'model.layers.0.mlp.down_proj', 'lm_head'], { minLength: 1 }),
      })
      .map((c) => JSON.stringify(c)),
  },
  // PEFT-shaped, with each field sometimes wrong or missing.
  fc.record(
    {
      peft_type: fc.oneof(fc.constant('LORA'), fc.constantFrom('IA3', 'lora', 1, null)),
      r: hostile,
      lora_alpha: hostile,
      lora_dropout: hostile,
      target_modules: fc.oneof(fc.array(moduleName, { maxLength: 4 }), fc.array(hostile, { maxLength: 3 }), hostile),
      use_rslora: fc.oneof(fc.constant(false), hostile),
    },
    { requiredKeys: [] },
  ).map((c) => JSON.stringify(c)),
  fc.json({ maxDepth: 3 }),
  fc.string({ maxLength: 30 }),
  fc.uint8Array({ maxLength: 30 }).map((b) => Buffer.from(b).toString('latin1')),
  fc.constant('x'.repeat(200_000)), // one huge line
);

/** A real adapter's tensors, possibly cut short, padded or overwritten with random bytes. */
const weights = fc
  .tuple(
    fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.tuple(fc.nat({ max: 3 }), fc.nat({ max: 3 })), { maxKeys: 3 }),
    fc.oneof(
      fc.constant({ kind: 'exact' as const }),
      fc.record({ kind: fc.constant('cut' as const), n: fc.nat({ max: 64 }) }),
      fc.record({ kind: fc.constant('poke' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
      fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 64 }) }),
    ),
  )
  .map(([shapes, m]) => {
    const t: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [k, [a, b]] of Object.entries(shapes)) t[k] = { shape: [a, b], data: new Float32Array(a * b).fill(0.25) };
    const buf = serializeSafetensors(t, { format: 'pt' });
    if (m.kind === 'cut') return buf.subarray(0, Math.max(0, buf.length - m.n));
    if (m.kind === 'poke') {
      const out = Buffer.from(buf);
      if (out.length > 0) out.set(m.bytes.subarray(0, out.length - (m.at % out.length)), m.at % out.length);
      return out;
    }
    if (m.kind === 'random') return Buffer.from(m.bytes);
    return buf;
  });

const meta = fc.option(fc.oneof(fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify({ wrapper: v })), fc.json({ maxDepth: 2 }), fc.string({ maxLength: 10 })), { nil: undefined });

describe('PEFT adapter loader under fuzzing', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'peft-fuzz-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  function checkError(e: unknown): void {
    if (e instanceof PeftAdapterError) {
      expect([ADAPTER_CONFIG, BAYES_PEFT_META].map((f) => path.join(dir, f))).toContain(e.file);
      expect(e.message.startsWith(`${e.file}: `)).toBe(true);
    } else if (e instanceof SafetensorsError) {
      expect(e.message.startsWith(path.join(dir, ADAPTER_WEIGHTS))).toBe(true);
    } else {
      throw new Error(`not a clear error: ${(e as Error)?.stack ?? String(e)}`);
    }
  }

  function checkValid(files: PeftAdapterFiles): void {
    expect(Number.isInteger(files.config.r) && files.config.r > 0).toBe(true);
    expect(files.config.alpha).toBeGreaterThan(0);
    expect(files.config.targets.length).toBeGreaterThan(0);
    expect(files.meta !== null && typeof files.meta === 'object' && !Array.isArray(files.meta)).toBe(true);
    for (const t of files.tensors.values()) expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
  }

  it(`ends every one of ${NUM_RUNS} hostile adapters (in memory) in a clear error naming the file or a valid adapter`, () => {
    const start = cpuMs();
    let runs = 0;
    let valid = 0;
    fc.assert(
      fc.property(config, weights, meta, (cfg, w, m) => {
        runs++;
        const t0 = cpuMs();
        const m0 = allocated();
        try {
          // loadPeftAdapter's order: config, weights, meta.
          const config = parsePeftConfig(cfg, path.join(dir, ADAPTER_CONFIG));
          const { tensors } = parseSafetensors(w, path.join(dir, ADAPTER_WEIGHTS));
          checkValid({ config, tensors, meta: parsePeftMeta(m ?? null, path.join(dir, BAYES_PEFT_META)), dir });
          valid++;
        } catch (e) {
          checkError(e);
        }
        const ms = cpuMs() - t0;
        if (ms > PER_CASE_MS) throw new Error(`load took ${ms.toFixed(0)} ms (bound ${PER_CASE_MS})`);
        const grown = allocated() - m0;
        if (grown > PER_CASE_BYTES) throw new Error(`load allocated ${grown} bytes (bound ${PER_CASE_BYTES})`);
      }),
      { seed: SEED, numRuns: NUM_RUNS, endOnFailure: true },
    );
    expect(runs).toBe(NUM_RUNS);
    // Some cases must get through, or the generator tests nothing but the first check.
    expect(valid).toBeGreaterThan(100);
    expect(cpuMs() - start).toBeLessThan(SUITE_MS);
  }, 60_000);

  it(`loads ${DISK_RUNS} hostile adapter folders from files with the same outcomes`, async () => {
    const start = cpuMs();
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(config, weights, meta, async (cfg, w, m) => {
        runs++;
        await fs.writeFile(path.join(dir, ADAPTER_CONFIG), cfg);
        await fs.writeFile(path.join(dir, ADAPTER_WEIGHTS), w);
        if (m === undefined) await fs.rm(path.join(dir, BAYES_PEFT_META), { force: true });
        else await fs.writeFile(path.join(dir, BAYES_PEFT_META), m);
        const t0 = cpuMs();
        try {
          checkValid(await loadPeftAdapter(dir));
        } catch (e) {
          checkError(e);
        }
        const ms = cpuMs() - t0;
        if (ms > PER_CASE_MS) throw new Error(`load took ${ms.toFixed(0)} ms (bound ${PER_CASE_MS})`);
      }),
      { seed: SEED, numRuns: DISK_RUNS, endOnFailure: true, timeout: PER_CASE_MS * 5 },
    );
    expect(runs).toBe(DISK_RUNS);
    expect(cpuMs() - start).toBeLessThan(SUITE_MS);
  }, 60_000);
});
