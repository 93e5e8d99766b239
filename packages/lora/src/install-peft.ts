import { tf } from '@bayes-peft/tensor';
import type { Backbone } from '@bayes-peft/core';
import { Rng } from '@bayes-peft/core';
import { installLora } from './install';
import type { LoraAdapter } from './lora-adapter';
import { loadPeftAdapter, takeTensor, type PeftAdapterFiles } from './peft-format';

/**
 * Installs a PEFT LoRA adapter folder on a backbone as plain LoRA (its mean; any BLoB rho is
 * ignored) and returns the installed adapters, for inference with a trained adapter.
 */
export async function installPeftAdapter(backbone: Backbone, dirOrFiles: string | PeftAdapterFiles): Promise<Map<string, LoraAdapter>> {
  const files = typeof dirOrFiles === 'string' ? await loadPeftAdapter(dirOrFiles) : dirOrFiles;
  const installed = installLora(backbone, files.config, new Rng(0), undefined, 'peft');
  const out = new Map<string, LoraAdapter>();
  for (const [name, { lora }] of installed) {
    const a = takeTensor(files, name, 'lora_A', lora.A.shape);
    const b = takeTensor(files, name, 'lora_B', lora.B.shape);
    tf.tidy(() => {
      lora.A.assign(tf.tensor2d(a.data as Float32Array, lora.A.shape as [number, number]));
      lora.B.assign(tf.tensor2d(b.data as Float32Array, lora.B.shape as [number, number]));
    });
    out.set(name, lora);
  }
  return out;
}
