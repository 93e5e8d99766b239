import { tf } from '@bayes-peft/tensor';
import type { LoraAdapter } from './lora-adapter';
import { peftKey, takeTensor, type PeftAdapterFiles } from './peft-format';

/** The PEFT state dict of a set of LoRA adapters (by site name): `base_model.model.<site>.lora_A.weight`, `.lora_B.weight`. */
export function loraPeftTensors(loras: ReadonlyMap<string, LoraAdapter>): Record<string, tf.Tensor> {
  const tensors: Record<string, tf.Tensor> = {};
  for (const [site, lora] of loras) {
    tensors[peftKey(site, 'lora_A')] = lora.A;
    tensors[peftKey(site, 'lora_B')] = lora.B;
  }
  return tensors;
}

/**
 * Copies A and B of every site from loaded PEFT files into the adapters. Every tensor is looked
 * up (and its shape checked) before any variable is written, so a bad file changes nothing.
 */
export function assignLoraFromPeft(files: PeftAdapterFiles, loras: ReadonlyMap<string, LoraAdapter>): void {
  const values = [...loras].map(([site, lora]) => ({
    lora,
    a: takeTensor(files, site, 'lora_A', lora.A.shape),
    b: takeTensor(files, site, 'lora_B', lora.B.shape),
  }));
  tf.tidy(() => {
    for (const { lora, a, b } of values) {
      lora.A.assign(tf.tensor2d(a.data as Float32Array, lora.A.shape as [number, number]));
      lora.B.assign(tf.tensor2d(b.data as Float32Array, lora.B.shape as [number, number]));
    }
  });
}
