import { z } from 'zod';
import { defineBackbone, type Backbone, type BackboneLoader, type RunContext } from '@bayes-peft/core';
import { loadCausalLm } from './load';

// Read at run time: package.json sits outside the compiled sources.
const pkg = require('../package.json') as { name: string; version: string };

export const CausalLmOptions = z
  .object({
    path: z
      .string()
      .min(1)
      .describe('Hugging Face model folder (relative to the spec file) or hub id, e.g. HuggingFaceTB/SmolLM2-135M'),
    revision: z.string().min(1).optional().describe('hub branch, tag or commit when path is a hub id (default: main)'),
    maxSeqLen: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("longest tokenized prompt; longer ones keep their last tokens (default: the model's max_position_embeddings)"),
    weights: z
      .enum(['auto', 'device', 'host'])
      .default('auto')
      .describe(
        "where the frozen weights are kept: 'device' = float32 tensors of the TensorFlow.js backend (on wasm, its 4 GiB heap); 'host' = their stored dtype (bf16/f16/f32) in host memory, read in place by the native products; 'auto' = host on wasm/cpu when float32 would exceed 1 GiB (e.g. Llama-3.2-1B), else device",
      ),
  })
  .strict()
  .describe('Llama-family causal LM (llama, mistral, qwen2 model_type)');
export type CausalLmOptions = z.output<typeof CausalLmOptions>;

/** Loads the backbone named by the spec, with the run's hub settings, log and spec folder. */
export class CausalLmLoader implements BackboneLoader {
  constructor(
    private readonly run: RunContext,
    private readonly options: CausalLmOptions,
  ) {}

  load(): Promise<Backbone> {
    return loadCausalLm(this.options.path, {
      hub: this.run.hub,
      revision: this.options.revision,
      baseDir: this.run.specDir,
      maxSeqLen: this.options.maxSeqLen,
      weights: this.options.weights,
      log: this.run.log,
    });
  }
}

export default defineBackbone({
  name: 'causal-lm',
  version: pkg.version,
  description: 'Llama-family decoder (Llama 2/3, Mistral, Qwen2) on TensorFlow.js with adapter sites on every projection and lm_head',
  packageName: pkg.name,
  options: CausalLmOptions,
  create: ({ run }, options) => new CausalLmLoader(run, options),
});
