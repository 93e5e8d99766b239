import { z } from 'zod';

/** The reference's NLI model (REFERENCE-SPEC §5.3): DeBERTa-v3-large fine-tuned on MNLI, FEVER, ANLI, LingNLI and WANLI. */
export const DEFAULT_NLI_MODEL = 'MoritzLaurer/DeBERTa-v3-large-mnli-fever-anli-ling-wanli';

export const NliOptions = z
  .object({
    model: z
      .string()
      .min(1)
      .default(DEFAULT_NLI_MODEL)
      .describe(
        'sequence-classification model exported to ONNX in the transformers.js/Optimum layout (config.json with id2label, tokenizer.json, onnx/model.onnx or model.onnx): a local folder (relative to the spec file) or a hub id fetched through the hub cache (hub: offline mode and endpoint apply). Smaller ONNX exports: Xenova/nli-deberta-v3-small, Xenova/nli-deberta-v3-base',
      ),
    revision: z.string().min(1).optional().describe('hub branch, tag or commit when model is a hub id (default: main)'),
    quantized: z
      .boolean()
      .default(false)
      .describe('load onnx/model_quantized.onnx (8-bit weights, as transformers.js publishes them) instead of onnx/model.onnx'),
    onnxFile: z
      .string()
      .min(1)
      .optional()
      .describe('the graph file inside the model folder, e.g. onnx/model_fp16.onnx; overrides quantized'),
    threshold: z
      .number()
      .min(0)
      .max(1)
      .default(0.5)
      .describe('entailment probability both directions must reach for the candidate to be correct (the reference: 0.5)'),
    conditionOnQuestion: z
      .boolean()
      .default(false)
      .describe("prepend the question to both sides of every pair ('<question> <answer>'), as the semantic-entropy code does; the reference does not"),
    batchSize: z.number().int().positive().default(32).describe('sentence pairs per forward pass (the reference: 32)'),
    maxLength: z
      .number()
      .int()
      .min(4)
      .optional()
      .describe("longest pair in tokens, special tokens included; longer pairs are cut, the longer side first (default: tokenizer_config's model_max_length, else config's max_position_embeddings)"),
    threads: z.number().int().positive().optional().describe("onnxruntime's intra-op threads (default: $BAYES_PEFT_ORT_THREADS, else every core)"),
  })
  .strict();

export type NliOptions = z.output<typeof NliOptions>;
