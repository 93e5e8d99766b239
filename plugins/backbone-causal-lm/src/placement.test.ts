import type { SafetensorsEntry } from '@bayes-peft/tensor';
import { decidePlacement, HOST_THRESHOLD_BYTES } from './weights';
import { useWasm } from './shared.test-support';

/** The frozen matrices of a model of Llama-3.2-1B's shapes, as its safetensors header lists them. */
function llama1b(dtype: 'BF16' | 'F32'): SafetensorsEntry[] {
  const e = (name: string, shape: number[]): SafetensorsEntry => ({ name, file: 'model.safetensors', dtype, shape, offset: 0, byteLength: shape[0] * shape[1] * (dtype === 'F32' ? 4 : 2) });
  const out = [e('model.embed_tokens.weight', [128256, 2048])];
  for (let i = 0; i < 16; i++) {
    out.push(e(`q${i}`, [2048, 2048]), e(`k${i}`, [512, 2048]), e(`v${i}`, [512, 2048]), e(`o${i}`, [2048, 2048]));
    out.push(e(`g${i}`, [8192, 2048]), e(`u${i}`, [8192, 2048]), e(`d${i}`, [2048, 8192]));
  }
  return out;
}
const plenty = { available: 20e9, total: 24e9 };

describe('where the frozen weights go', () => {
  beforeAll(() => useWasm());

  it("'auto' keeps small models on the device and puts a 1B model's BF16 bytes in host memory", () => {
    const small = decidePlacement('/m', [{ name: 'w', file: 'f', dtype: 'F32', shape: [512, 64], offset: 0, byteLength: 512 * 64 * 4 }], 'auto', plenty);
    expect(small.place).toBe('device');
    expect(small.line).toBe('weights: 131.1 kB float32 (stored f32) as tensors on the wasm heap (auto)');
    const big = decidePlacement('/m', llama1b('BF16'), 'auto', plenty);
    expect(big.place).toBe('host');
    expect(big.bytes).toBe(2 * 1_235_746_816); // every matrix; the norms (67 584 values) stay device tensors
    expect(big.line).toMatch(/^weights: 2\.47 GB bf16, host memory, .*; wasm heap: activations and adapters \(auto: float32 would be 4\.94 GB > 1\.07 GB\)$/);
    expect(HOST_THRESHOLD_BYTES).toBe(1024 ** 3);
  });

  it('refuses, before reading anything, a model that cannot fit where it would go, naming its size and the limit', () => {
    expect(() => decidePlacement('/m', llama1b('BF16'), 'device', plenty)).toThrow(
      "/m: the weights need 4.94 GB as float32 tensors, and the wasm backend keeps every tensor in one heap of at most 4 GiB (3.76 GB left for weights): load them with weights 'host' (the default 'auto' does so)",
    );
    expect(() => decidePlacement('/m', llama1b('BF16'), 'auto', { available: 2e9, total: 4e9 })).toThrow(
      '/m: the weights need 2.47 GB of host memory (stored bf16) plus working room, and this machine has 2.00 GB available of 4.00 GB',
    );
  });

  it("an explicit 'host' request is honoured for any size", () => {
    const r = decidePlacement('/m', [{ name: 'w', file: 'f', dtype: 'F16', shape: [4, 4], offset: 0, byteLength: 32 }], 'host', plenty);
    expect(r).toMatchObject({ place: 'host', bytes: 32, dtypes: ['F16'] });
    expect(r.line).toMatch(/\(requested\)$/);
  });
});
