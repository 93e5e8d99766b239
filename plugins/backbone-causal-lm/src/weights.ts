import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readModelWeights, SafetensorsError, tf, transposesAreCheap, type HostTensor } from '@bayes-peft/tensor';
import type { SiteKind } from '@bayes-peft/core';
import type { CausalLmConfig } from './config';
import { ModelLoadError } from './errors';
import { DecoderLayer } from './layer';
import { Linear, type WeightLayout } from './linear';

/** The decoder's parameters on the device. */
export interface ModelWeights {
  /**
   * Token embeddings: [vocab, hidden] rows, or with tied embeddings in the 'kernel' layout the
   * head's kernel [hidden, vocab] (one copy serves both; lookups gather its columns). Tied
   * embeddings in the 'weight' layout are rows shared with the head.
   */
  readonly embed: tf.Tensor2D;
  readonly embedLayout: 'rows' | 'columns';
  readonly layers: DecoderLayer[];
  readonly norm: tf.Tensor1D;
  readonly lmHead: Linear;
}

/**
 * Reads the folder's safetensors (single file or shards, any float dtype widened to float32)
 * and uploads them under the Hugging Face names, checking every shape against config.json.
 * A missing tensor is an error that names it; tensors the decoder does not use are ignored
 * (e.g. the rotary `inv_freq` buffers older checkpoints carry).
 */
export async function loadWeights(dir: string, config: CausalLmConfig, layout: WeightLayout = transposesAreCheap() ? 'weight' : 'kernel'): Promise<ModelWeights> {
  let host: Map<string, HostTensor>;
  try {
    host = await readModelWeights(dir);
  } catch (e) {
    if (!(e instanceof SafetensorsError)) throw e;
    const where = `${e.file}${e.tensor ? ` (tensor '${e.tensor}')` : ''}`;
    throw new ModelLoadError(where, e.message.slice(where.length + 2));
  }
  const files = await weightFiles(dir);
  const uploaded: tf.Tensor[] = [];
  try {
    const take = <R extends tf.Rank>(name: string, shape: number[]): tf.Tensor<R> => {
      const t = host.get(name);
      if (!t) throw new ModelLoadError(dir, `weight '${name}' is missing from ${files}`);
      if (!(t.data instanceof Float32Array)) throw new ModelLoadError(dir, `weight '${name}' has integer dtype ${t.dtype}; expected a float tensor`);
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
        throw new ModelLoadError(dir, `weight '${name}' has shape [${t.shape}], config.json implies [${shape}]`);
      }
      const out = tf.tensor(t.data, shape, 'float32') as tf.Tensor as tf.Tensor<R>;
      uploaded.push(out);
      return out;
    };
    const c = config;
    const qOut = c.numHeads * c.headDim;
    const kvOut = c.numKeyValueHeads * c.headDim;
    // Projections are stored as kernels W^T or as W (see Linear); kernels are transposed once here, on the device.
    const kernel = (name: string, out: number, inF: number): tf.Tensor2D => {
      const w = take<tf.Rank.R2>(name, [out, inF]);
      if (layout === 'weight') return w;
      const k = tf.transpose(w);
      w.dispose();
      uploaded.push(k);
      return k;
    };
    const linear = (prefix: string, kind: SiteKind, layer: number, out: number, inF: number, bias: boolean): Linear =>
      new Linear(prefix, kind, layer, kernel(`${prefix}.weight`, out, inF), bias ? take<tf.Rank.R1>(`${prefix}.bias`, [out]) : null, layout);

    const layers: DecoderLayer[] = [];
    for (let i = 0; i < c.numLayers; i++) {
      const p = `model.layers.${i}`;
      layers.push(
        new DecoderLayer(
          {
            index: i,
            inputNorm: take<tf.Rank.R1>(`${p}.input_layernorm.weight`, [c.hiddenSize]),
            postAttentionNorm: take<tf.Rank.R1>(`${p}.post_attention_layernorm.weight`, [c.hiddenSize]),
            q: linear(`${p}.self_attn.q_proj`, 'q_proj', i, qOut, c.hiddenSize, c.qkvBias),
            k: linear(`${p}.self_attn.k_proj`, 'k_proj', i, kvOut, c.hiddenSize, c.qkvBias),
            v: linear(`${p}.self_attn.v_proj`, 'v_proj', i, kvOut, c.hiddenSize, c.qkvBias),
            o: linear(`${p}.self_attn.o_proj`, 'o_proj', i, c.hiddenSize, qOut, c.outputBias),
            gate: linear(`${p}.mlp.gate_proj`, 'gate_proj', i, c.intermediateSize, c.hiddenSize, c.mlpBias),
            up: linear(`${p}.mlp.up_proj`, 'up_proj', i, c.intermediateSize, c.hiddenSize, c.mlpBias),
            down: linear(`${p}.mlp.down_proj`, 'down_proj', i, c.hiddenSize, c.intermediateSize, c.mlpBias),
          },
          c,
        ),
      );
    }
    const norm = take<tf.Rank.R1>('model.norm.weight', [c.hiddenSize]);
    if (!c.tieWordEmbeddings && !host.has('lm_head.weight')) {
      throw new ModelLoadError(dir, `weight 'lm_head.weight' is missing from ${files} (config.json has tie_word_embeddings false)`);
    }
    if (c.tieWordEmbeddings) {
      // Tied: transformers points lm_head at the embedding matrix (a checkpoint's own copy is ignored).
      const shared = kernel('model.embed_tokens.weight', c.vocabSize, c.hiddenSize);
      const lmHead = new Linear('lm_head', 'lm_head', null, shared, null, layout);
      return { embed: shared, embedLayout: layout === 'weight' ? 'rows' : 'columns', layers, norm, lmHead };
    }
    const embed = take<tf.Rank.R2>('model.embed_tokens.weight', [c.vocabSize, c.hiddenSize]);
    const lmHead = new Linear('lm_head', 'lm_head', null, kernel('lm_head.weight', c.vocabSize, c.hiddenSize), null, layout);
    return { embed, embedLayout: 'rows', layers, norm, lmHead };
  } catch (e) {
    for (const t of uploaded) t.dispose();
    throw e;
  }
}

/** For messages: which file(s) the weights came from. */
async function weightFiles(dir: string): Promise<string> {
  try {
    const index = JSON.parse(await fs.readFile(path.join(dir, 'model.safetensors.index.json'), 'utf8'));
    return [...new Set(Object.values(index.weight_map as Record<string, string>))].sort().join(', ');
  } catch {
    return 'model.safetensors';
  }
}
