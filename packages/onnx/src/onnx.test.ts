import * as os from 'node:os';
import { GraphBuilder, OnnxSession, onnxRuntimeUnavailable, ortThreads, ORT_THREADS_ENV } from './index';

const ortMissing = onnxRuntimeUnavailable();
if (ortMissing && process.env.CI) throw new Error(`onnxruntime is required in CI: ${ortMissing}`);
// Skipped only off CI where onnxruntime-node's binary does not load (CI throws above instead).
const itOrt = ortMissing ? it.skip : it;

/** y = relu(x W^T + b) * 2 with x [m, 3] a symbolic-batch input and W [2, 3] an input read with transB. */
function smallGraph(): GraphBuilder {
  const g = new GraphBuilder('small');
  const x = g.input('x', ['m', 3]);
  const w = g.input('w', [2, 3]);
  const b = g.constant(new Float32Array([0.5, -1]), [2]);
  const y = g.op('Relu', [g.op('Gemm', [x, w, b], { transB: 1 })]);
  g.output(g.op('Mul', [y, g.constant(new Float32Array([2]), [])]), 'y', ['m', 2]);
  return g;
}

describe('GraphBuilder', () => {
  it('refuses a name twice and checks constant sizes', () => {
    const g = new GraphBuilder('g');
    g.input('x', [1]);
    expect(() => g.input('x', [1])).toThrow(/already taken/);
    expect(() => g.constant(new Float32Array(3), [2, 2])).toThrow(/3 values for dims \[2,2\]/);
  });

  it('shares one initializer per distinct int64 value', () => {
    const g = new GraphBuilder('g');
    expect(g.int64([1, 2])).toBe(g.int64([1, 2]));
    expect(g.int64([1, 2])).not.toBe(g.int64([2, 1]));
  });

  itOrt('serialises a model onnxruntime runs, with the numbers computed by hand', async () => {
    const session = await OnnxSession.create(smallGraph().toBytes(), { threads: 1 });
    try {
      expect(session.description).toMatch(/^onnxruntime-node \d+\.\d+\.\d+ \(cpu, 1 thread\)$/);
      const x = new Float32Array([1, 2, 3, -1, 0, 1]);
      const w = new Float32Array([1, 0, 0, 0, 1, 1]);
      const { y } = await session.run({ x: { data: x, dims: [2, 3] }, w: { data: w, dims: [2, 3] } });
      // row 0: [1 + 0.5, 5 - 1] -> relu -> *2 = [3, 8]; row 1: [-1 + 0.5, 1 - 1] -> [0, 0]
      expect(Array.from(y.data)).toEqual([3, 8, 0, 0]);
      expect(y.dims).toEqual([2, 2]);
    } finally {
      await session.dispose();
    }
  });

  itOrt('reads a Float32Array view at an offset inside a larger buffer (how weights are fed from the wasm heap)', async () => {
    const session = await OnnxSession.create(smallGraph().toBytes(), { threads: 1 });
    try {
      const heap = new Float32Array(64).fill(NaN);
      heap.set([1, 0, 0, 0, 1, 1], 13);
      const w = new Float32Array(heap.buffer, 13 * 4, 6);
      const { y } = await session.run({ x: { data: new Float32Array([1, 2, 3]), dims: [1, 3] }, w: { data: w, dims: [2, 3] } });
      expect(Array.from(y.data)).toEqual([3, 8]);
    } finally {
      await session.dispose();
    }
  });

  itOrt('says which input is wrong when a feed does not fit', async () => {
    const session = await OnnxSession.create(smallGraph().toBytes(), { threads: 1 });
    try {
      await expect(session.run({ x: { data: new Float32Array(4), dims: [1, 4] }, w: { data: new Float32Array(6), dims: [2, 3] } })).rejects.toThrow(/x/);
    } finally {
      await session.dispose();
    }
  });
});

describe('ortThreads', () => {
  const saved = { ort: process.env[ORT_THREADS_ENV], any: process.env.BAYES_PEFT_THREADS };
  afterEach(() => {
    for (const [k, v] of [[ORT_THREADS_ENV, saved.ort], ['BAYES_PEFT_THREADS', saved.any]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('takes BAYES_PEFT_ORT_THREADS, else every core (never BAYES_PEFT_THREADS, which is OpenBLAS\'); refuses a bad value', () => {
    delete process.env[ORT_THREADS_ENV];
    delete process.env.BAYES_PEFT_THREADS;
    const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    expect(ortThreads()).toBe(cores);
    process.env.BAYES_PEFT_THREADS = String(cores + 3);
    expect(ortThreads()).toBe(cores);
    process.env[ORT_THREADS_ENV] = '1';
    expect(ortThreads()).toBe(1);
    process.env[ORT_THREADS_ENV] = 'lots';
    expect(() => ortThreads()).toThrow("BAYES_PEFT_ORT_THREADS='lots' is not a positive integer");
  });
});

describe('loadOnnxRuntime', () => {
  it('says in one line that onnxruntime-node is not installed, and how to get its CPU build', () => {
    jest.isolateModules(() => {
      jest.doMock('onnxruntime-node', () => {
        const e = new Error("Cannot find module 'onnxruntime-node' from 'src/runtime.ts'") as NodeJS.ErrnoException;
        e.code = 'MODULE_NOT_FOUND';
        throw e;
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const fresh = require('./runtime') as typeof import('./runtime');
      expect(fresh.onnxRuntimeUnavailable()).toBe(fresh.ORT_NOT_INSTALLED);
      expect(fresh.ORT_NOT_INSTALLED).toMatch(/^onnxruntime-node is not installed \(.*ONNXRUNTIME_NODE_INSTALL=skip npm install installs its CPU build\)$/);
    });
  });
});
