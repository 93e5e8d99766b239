import * as tf from '@tensorflow/tfjs-core';
import { ENV } from '@bayes-peft/env';
import type * as BackendModule from './backend';

const wasmPackage = require('@tensorflow/tfjs-backend-wasm');

/**
 * A fresh copy of the module, so each test starts with no engine chosen. tfjs itself is
 * shared with the copy: one process holds one engine, as in production.
 */
function freshBackend(): typeof BackendModule {
  let mod: typeof BackendModule | undefined;
  jest.isolateModules(() => {
    jest.doMock('@tensorflow/tfjs-core', () => tf);
    jest.doMock('@tensorflow/tfjs-backend-wasm', () => wasmPackage);
    mod = require('./backend');
  });
  return mod!;
}

/** Whether a native binding actually loads here (pnpm may install one without its addon). */
function loads(pkg: string): boolean {
  try {
    require.resolve(pkg);
  } catch {
    return false;
  }
  try {
    require(pkg);
    return true;
  } catch {
    for (const k of tf.getKernelsForBackend('tensorflow')) tf.unregisterKernel(k.kernelName, 'tensorflow');
    return false;
  }
}

const nativeWorks = loads('@tensorflow/tfjs-node-gpu') || loads('@tensorflow/tfjs-node');

describe('initBackend', () => {
  const savedEnv = process.env.BAYES_PEFT_BACKEND;
  beforeEach(() => {
    delete process.env.BAYES_PEFT_BACKEND;
  });
  afterAll(() => {
    if (savedEnv === undefined) delete process.env.BAYES_PEFT_BACKEND;
    else process.env.BAYES_PEFT_BACKEND = savedEnv;
  });

  it('auto takes the best available engine and says why it skipped the better ones', async () => {
    const { initBackend } = freshBackend();
    const lines: string[] = [];
    const choice = await initBackend('auto', (l) => lines.push(l));
    // The engine, then whether native kernels replace its hottest ones.
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^backend: ${choice.name}\\b`));
    expect(lines[1]).toBe(choice.fast.line);
    expect(lines[1]).toMatch(/^fast path: (native BatchMatMul on wasm|unavailable|off|not needed)/);
    if (!nativeWorks) {
      expect(choice.name).toBe('wasm');
      expect(choice.reasons).toHaveLength(2);
      expect(choice.reasons[0]).toMatch(/^tensorflow-gpu: @tensorflow\/tfjs-node-gpu (not installed|is installed without its native addon|failed to load)/);
      expect(choice.reasons[1]).toMatch(/^tensorflow: @tensorflow\/tfjs-node (not installed|is installed without its native addon|failed to load)/);
      // Installed without the addon (pnpm runs no script it was not allowed to): what is true and what to do.
      for (const [i, pkg] of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'].entries()) {
        if (!choice.reasons[i].includes('without its native addon')) continue;
        expect(choice.reasons[i]).toContain(`its install script, which downloads libtensorflow, did not run or could not download`);
        expect(choice.reasons[i]).toMatch(new RegExp(`where it can work, run it \\(npm rebuild ${pkg}; under pnpm allow its build first\\), else uninstall ${pkg}$`));
        expect(choice.reasons[i].includes('CUDA and cuDNN')).toBe(i === 0);
      }
      const native = choice.fast.enabled ? ', native matmul' : '';
      expect(lines[0]).toBe(`backend: wasm [simd, single-threaded${native}] (${choice.reasons.join('; ')})`);
      expect(tf.getBackend()).toBe('wasm');
    }
    // The engine computes.
    const y = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync()[0]);
    expect(y).toBe(11);
  });

  it('is idempotent: later calls return the first choice and log nothing', async () => {
    const { initBackend } = freshBackend();
    const lines: string[] = [];
    const log = { info: (l: string) => lines.push(l) };
    const a = await initBackend('cpu', log);
    const b = await initBackend('auto', log);
    const c = await initBackend('cpu', log);
    expect(a.name).toBe('cpu');
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(lines).toEqual([`backend: cpu${a.fast.enabled ? ' [native matmul]' : ''} (requested)`, a.fast.line]);
    expect(tf.getBackend()).toBe('cpu');
  });

  it('switches when a different engine is named', async () => {
    const { initBackend, currentBackend } = freshBackend();
    const lines: string[] = [];
    await initBackend('cpu', (l) => lines.push(l));
    const w = await initBackend('wasm', (l) => lines.push(l));
    expect(w.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect((await currentBackend())?.name).toBe('wasm');
    expect(lines).toHaveLength(4);
    expect(lines[2]).toMatch(/^backend: wasm \[(no )?simd, (single-)?threaded(, native matmul)?\] \(requested\)$/);
    expect(lines[3]).toBe(w.fast.line);
  });

  it('BAYES_PEFT_BACKEND overrides auto but not an explicit request', async () => {
    process.env.BAYES_PEFT_BACKEND = 'cpu';
    const first = freshBackend();
    expect((await first.initBackend('auto', () => {})).name).toBe('cpu');
    expect((await first.initBackend('auto', () => {})).requested).toBe('cpu');
    const second = freshBackend();
    expect((await second.initBackend('wasm', () => {})).name).toBe('wasm');
  });

  it('takes the values @bayes-peft/env declares for BAYES_PEFT_BACKEND', () => {
    const { BACKENDS } = freshBackend();
    expect(ENV.BAYES_PEFT_BACKEND.values).toEqual(['auto', ...BACKENDS]);
  });

  it('rejects a bad BAYES_PEFT_BACKEND value with the allowed names', () => {
    process.env.BAYES_PEFT_BACKEND = 'webgpu';
    const { initBackend } = freshBackend();
    expect(() => initBackend('auto')).toThrow(/BAYES_PEFT_BACKEND='webgpu' is not one of auto, tensorflow-gpu, tensorflow, wasm, cpu/);
  });

  it('an explicit request for an unusable native engine fails and says why', async () => {
    if (nativeWorks) return; // this machine has a working binding: nothing to check
    const { initBackend, currentBackend } = freshBackend();
    await expect(initBackend('tensorflow', () => {})).rejects.toThrow(
      /^backend tensorflow was requested but is unavailable: @tensorflow\/tfjs-node (not installed|is installed without|failed to load)/,
    );
    // A failed request leaves nothing chosen, so a later call can still succeed.
    expect(await currentBackend()).toBeNull();
    expect((await initBackend('cpu', () => {})).name).toBe('cpu');
  });
});
