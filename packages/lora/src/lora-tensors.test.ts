import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Rng, type LoraConfig } from '@bayes-peft/core';
import { tf } from '@bayes-peft/tensor';
import { setupTestBackend, ToyBackbone } from '@bayes-peft/testing-backbone';
import { checkAdapterCompatible } from './check-compatible';
import { installLora } from './install';
import type { LoraAdapter } from './lora-adapter';
import { assignLoraFromPeft, loraPeftTensors } from './lora-tensors';
import { loadPeftAdapter, peftKey, savePeftAdapter } from './peft-format';
import { removeAdapters } from './install';

const config: LoraConfig = { r: 2, alpha: 4, dropout: 0, targets: ['q_proj', 'lm_head'] };

beforeAll(setupTestBackend);

function loras(bb: ToyBackbone, seed: number): Map<string, LoraAdapter> {
  const out = new Map<string, LoraAdapter>();
  for (const [site, { lora }] of installLora(bb, config, new Rng(seed), undefined, `t${seed}`)) out.set(site, lora);
  return out;
}

describe('loraPeftTensors / assignLoraFromPeft', () => {
  it('round-trips A and B through the PEFT files, leaving no tensors behind', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lora-tensors-'));
    const bb = new ToyBackbone({ hiddenSize: 8 });
    const src = loras(bb, 1);
    const dst = loras(bb, 2);
    tf.tidy(() => [...src.values()].forEach((l, i) => l.B.assign(tf.randomNormal(l.B.shape, 0, 1, 'float32', i + 1))));
    const tensors = loraPeftTensors(src);
    expect(Object.keys(tensors).sort()).toEqual([...src.keys()].flatMap((s) => [peftKey(s, 'lora_A'), peftKey(s, 'lora_B')]).sort());
    await savePeftAdapter(dir, { config, baseModel: 'toy', tensors });
    const files = await loadPeftAdapter(dir);
    const before = tf.memory().numTensors;
    assignLoraFromPeft(files, dst);
    expect(tf.memory().numTensors).toBe(before);
    for (const [site, l] of dst) {
      expect(Array.from(l.A.dataSync())).toEqual(Array.from(src.get(site)!.A.dataSync()));
      expect(Array.from(l.B.dataSync())).toEqual(Array.from(src.get(site)!.B.dataSync()));
    }
    [...src.values(), ...dst.values()].forEach((l) => l.dispose());
    bb.dispose();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('checkAdapterCompatible lists every mismatch of r, alpha and targets', () => {
    expect(() => checkAdapterCompatible(config, { ...config, targets: ['lm_head', 'q_proj'] }, 'd')).not.toThrow();
    expect(() => checkAdapterCompatible(config, { ...config, r: 4, alpha: 8, targets: ['q_proj'] }, 'd')).toThrow(
      "d: the adapter does not match the run's lora section: r 2 (run: 4); alpha 4 (run: 8); targets [lm_head,q_proj] (run: [q_proj])",
    );
  });
});

describe('removeAdapters', () => {
  it("takes only the given adapters off the sites", async () => {
    const bb = new ToyBackbone({ hiddenSize: 8 });
    const mine = loras(bb, 3);
    const other = { delta: (x: tf.Tensor) => x };
    bb.sites()[1].adapter = other; // layer 0's v_proj, a site this LoRA set (q_proj, lm_head) does not target
    expect(bb.sites().map((s) => s.adapter !== null)).toEqual([true, true, true, false, true]);
    removeAdapters(bb, mine.values());
    expect(bb.sites().map((s) => s.adapter)).toEqual([null, other, null, null, null]);
    [...mine.values()].forEach((l) => l.dispose());
    bb.dispose();
  });
});
