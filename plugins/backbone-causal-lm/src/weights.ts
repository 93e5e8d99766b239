import * as os from 'node:os';
import { hostMatrix, hostProductPath, ModelWeightFiles, SafetensorsError, tf, transposesAreCheap, type HostFloatDtype, type SafetensorsEntry } from '@bayes-peft/tensor';
import type { SiteKind } from '@bayes-peft/core';
import type { CausalLmConfig } from './config';
import { ModelLoadError } from './errors';
import { DecoderLayer } from './layer';
import { Linear, type Frozen, type WeightLayout } from './linear';

/** The decoder's parameters: frozen matrices on the device or in host memory, norms on the device. */
export interface ModelWeights {
  /**
   * Token embeddings W [vocab, hidden]. On the device either as rows (layout 'weight') or, with
   * tied embeddings in the 'kernel' layout, as the head's kernel [hidden, vocab] (one copy serves
   * both; lookups gather its columns). Tied embeddings are the head's own Frozen.
   */
  readonly embed: Frozen;
  readonly layers: DecoderLayer[];
  readonly norm: tf.Tensor1D;
  readonly lmHead: Linear;
  /** Where the frozen matrices are and how many bytes they take: for the model line at start. */
  readonly placement: WeightPlacementReport;
}

/**
 * Where frozen matrices are kept:
 * - 'device': float32 tensors of the TensorFlow.js backend (on the wasm backend, its one 32-bit
 *   heap of at most 4 GiB; on tensorflow-gpu, GPU memory);
 * - 'host': their stored dtype (BF16, F16, F32) in host memory, read in place by the native
 *   products (each widens 16-bit tiles to float32 inside the kernel);
 * - 'auto': 'host' on wasm/cpu when the float32 copy would pass HOST_THRESHOLD_BYTES, else 'device'.
 */
export type WeightPlacement = 'auto' | 'device' | 'host';

export interface WeightPlacementReport {
  readonly place: 'device' | 'host';
  /** Bytes of the frozen matrices as kept (stored dtype on the host, float32 on the device). */
  readonly bytes: number;
  /** The stored dtypes of the frozen matrices, e.g. ['BF16']. */
  readonly dtypes: readonly string[];
  /** One line: where the weights live, how large, and why. */
  readonly line: string;
}

/**
 * Above this float32 size the weights go to host memory under 'auto' (wasm/cpu backends). The
 * wasm heap is 4 GiB at most and also holds activations, gradients and optimizer state; at
 * 1 GiB of weights a training step still has room, and every model up to that size keeps the
 * all-device path (bit for bit the results it always had).
 */
export const HOST_THRESHOLD_BYTES = 1024 ** 3;
/** The wasm heap's hard limit, less room for a forward's activations. */
const WASM_DEVICE_LIMIT = 3.5 * 1024 ** 3;

export interface LoadWeightsOptions {
  readonly placement?: WeightPlacement;
  /** Device layout of the projections (default: 'weight' where transposed products are cheap). */
  readonly layout?: WeightLayout;
  /** Gets the placement line as soon as it is decided, before minutes of reading a large model. */
  readonly log?: (line: string) => void;
}

/**
 * Reads the folder's safetensors (single file or shards, tensor by tensor: no file is read
 * whole) and keeps them under the Hugging Face names, checking every shape against config.json.
 * A missing tensor is an error that names it; tensors the decoder does not use are ignored
 * (e.g. the rotary `inv_freq` buffers older checkpoints carry). Whether the model fits where
 * its weights go is checked before anything is read.
 */
export async function loadWeights(dir: string, config: CausalLmConfig, options: LoadWeightsOptions = {}): Promise<ModelWeights> {
  const files = await openWeightFiles(dir);
  const uploaded: tf.Tensor[] = [];
  try {
    const c = config;
    const qOut = c.numHeads * c.headDim;
    const kvOut = c.numKeyValueHeads * c.headDim;
    const entry = (name: string, shape: number[]): SafetensorsEntry => {
      if (!files.has(name)) throw new ModelLoadError(dir, `weight '${name}' is missing from ${files.files.join(', ')}`);
      const e = files.entry(name);
      if (!['F32', 'F16', 'BF16', 'F64'].includes(e.dtype)) throw new ModelLoadError(dir, `weight '${name}' has integer dtype ${e.dtype}; expected a float tensor`);
      if (e.shape.length !== shape.length || e.shape.some((d, i) => d !== shape[i])) {
        throw new ModelLoadError(dir, `weight '${name}' has shape [${e.shape}], config.json implies [${shape}]`);
      }
      return e;
    };

    // Every frozen matrix, checked before any is read.
    if (!c.tieWordEmbeddings && !files.has('lm_head.weight')) {
      throw new ModelLoadError(dir, `weight 'lm_head.weight' is missing from ${files.files.join(', ')} (config.json has tie_word_embeddings false)`);
    }
    const matrices: SafetensorsEntry[] = [entry('model.embed_tokens.weight', [c.vocabSize, c.hiddenSize])];
    const projections: [string, number, number][] = [];
    for (let i = 0; i < c.numLayers; i++) {
      const p = `model.layers.${i}`;
      projections.push(
        [`${p}.self_attn.q_proj`, qOut, c.hiddenSize],
        [`${p}.self_attn.k_proj`, kvOut, c.hiddenSize],
        [`${p}.self_attn.v_proj`, kvOut, c.hiddenSize],
        [`${p}.self_attn.o_proj`, c.hiddenSize, qOut],
        [`${p}.mlp.gate_proj`, c.intermediateSize, c.hiddenSize],
        [`${p}.mlp.up_proj`, c.intermediateSize, c.hiddenSize],
        [`${p}.mlp.down_proj`, c.hiddenSize, c.intermediateSize],
      );
    }
    if (!c.tieWordEmbeddings) projections.push(['lm_head', c.vocabSize, c.hiddenSize]);
    for (const [name, out, inF] of projections) matrices.push(entry(`${name}.weight`, [out, inF]));
    const placement = decidePlacement(dir, matrices, options.placement ?? 'auto');
    options.log?.(placement.line);
    const layout = options.layout ?? (transposesAreCheap() ? 'weight' : 'kernel');

    const vector = async (name: string, size: number): Promise<tf.Tensor1D> => {
      entry(name, [size]);
      const t = tf.tensor1d((await readFloat(files, name)) as Float32Array, 'float32');
      uploaded.push(t);
      return t;
    };
    const frozen = async (name: string, out: number, inF: number): Promise<Frozen> => {
      const e = entry(name, [out, inF]);
      if (placement.place === 'host') {
        const stored = await readStored(files, name);
        const dtype: HostFloatDtype = e.dtype === 'BF16' || e.dtype === 'F16' ? e.dtype : 'F32';
        return { place: 'host', matrix: hostMatrix(name, dtype, [out, inF], stored) };
      }
      const w = tf.tensor2d((await readFloat(files, name)) as Float32Array, [out, inF], 'float32');
      if (layout === 'weight') {
        uploaded.push(w);
        return { place: 'device', tensor: w, layout };
      }
      // Kernels are transposed once here, on the device.
      const k = tf.transpose(w);
      w.dispose();
      uploaded.push(k);
      return { place: 'device', tensor: k, layout };
    };
    const linear = async (prefix: string, kind: SiteKind, layer: number | null, out: number, inF: number, bias: boolean): Promise<Linear> =>
      new Linear(prefix, kind, layer, await frozen(`${prefix}.weight`, out, inF), bias ? await vector(`${prefix}.bias`, out) : null);

    const layers: DecoderLayer[] = [];
    for (let i = 0; i < c.numLayers; i++) {
      const p = `model.layers.${i}`;
      layers.push(
        new DecoderLayer(
          {
            index: i,
            inputNorm: await vector(`${p}.input_layernorm.weight`, c.hiddenSize),
            postAttentionNorm: await vector(`${p}.post_attention_layernorm.weight`, c.hiddenSize),
            q: await linear(`${p}.self_attn.q_proj`, 'q_proj', i, qOut, c.hiddenSize, c.qkvBias),
            k: await linear(`${p}.self_attn.k_proj`, 'k_proj', i, kvOut, c.hiddenSize, c.qkvBias),
            v: await linear(`${p}.self_attn.v_proj`, 'v_proj', i, kvOut, c.hiddenSize, c.qkvBias),
            o: await linear(`${p}.self_attn.o_proj`, 'o_proj', i, c.hiddenSize, qOut, c.outputBias),
            gate: await linear(`${p}.mlp.gate_proj`, 'gate_proj', i, c.intermediateSize, c.hiddenSize, c.mlpBias),
            up: await linear(`${p}.mlp.up_proj`, 'up_proj', i, c.intermediateSize, c.hiddenSize, c.mlpBias),
            down: await linear(`${p}.mlp.down_proj`, 'down_proj', i, c.hiddenSize, c.intermediateSize, c.mlpBias),
          },
          c,
        ),
      );
    }
    const norm = await vector('model.norm.weight', c.hiddenSize);
    if (c.tieWordEmbeddings) {
      // Tied: transformers points lm_head at the embedding matrix (a checkpoint's own copy is ignored).
      const shared = await frozen('model.embed_tokens.weight', c.vocabSize, c.hiddenSize);
      return { embed: shared, layers, norm, lmHead: new Linear('lm_head', 'lm_head', null, shared, null), placement };
    }
    // The embedding is only ever gathered from: on the device it is kept as rows.
    const embed: Frozen =
      placement.place === 'host'
        ? await frozen('model.embed_tokens.weight', c.vocabSize, c.hiddenSize)
        : { place: 'device', tensor: track(uploaded, tf.tensor2d((await readFloat(files, 'model.embed_tokens.weight')) as Float32Array, [c.vocabSize, c.hiddenSize])), layout: 'weight' };
    return { embed, layers, norm, lmHead: await linear('lm_head', 'lm_head', null, c.vocabSize, c.hiddenSize, false), placement };
  } catch (e) {
    for (const t of uploaded) t.dispose();
    throw e;
  } finally {
    await files.close();
  }
}

function track<T extends tf.Tensor>(list: tf.Tensor[], t: T): T {
  list.push(t);
  return t;
}

async function openWeightFiles(dir: string): Promise<ModelWeightFiles> {
  try {
    return await ModelWeightFiles.open(dir);
  } catch (e) {
    throw asLoadError(e);
  }
}

async function readFloat(files: ModelWeightFiles, name: string): Promise<Float32Array> {
  try {
    return (await files.read(name)).data as Float32Array;
  } catch (e) {
    throw asLoadError(e);
  }
}

async function readStored(files: ModelWeightFiles, name: string): Promise<Float32Array | Uint16Array> {
  try {
    return (await files.readStored(name)).data as Float32Array | Uint16Array;
  } catch (e) {
    throw asLoadError(e);
  }
}

function asLoadError(e: unknown): unknown {
  if (!(e instanceof SafetensorsError)) return e;
  const where = `${e.file}${e.tensor ? ` (tensor '${e.tensor}')` : ''}`;
  return new ModelLoadError(where, e.message.slice(where.length + 2));
}

/**
 * Where the frozen matrices go, from their sizes, the backend and the request; throws before any
 * weight is read when they cannot fit there, naming the size and the limit.
 */
export function decidePlacement(dir: string, matrices: readonly SafetensorsEntry[], request: WeightPlacement, memory = hostMemory()): WeightPlacementReport {
  const count = (e: SafetensorsEntry) => e.shape.reduce((a, b) => a * b, 1);
  const storedBytes = matrices.reduce((s, e) => s + count(e) * (e.dtype === 'F64' ? 4 : e.dtype === 'F32' ? 4 : 2), 0);
  const floatBytes = matrices.reduce((s, e) => s + count(e) * 4, 0);
  const dtypes = [...new Set(matrices.map((e) => (e.dtype === 'F64' ? 'F32' : e.dtype)))].sort();
  const backend = tf.getBackend();
  const heapBackend = backend === 'wasm' || backend === 'cpu';
  const place = request === 'auto' ? (heapBackend && floatBytes > HOST_THRESHOLD_BYTES ? 'host' : 'device') : request;
  const why = request === 'auto' ? (place === 'host' ? `auto: float32 would be ${gb(floatBytes)} > ${gb(HOST_THRESHOLD_BYTES)}` : 'auto') : 'requested';
  if (place === 'device') {
    if (backend === 'wasm' && floatBytes > WASM_DEVICE_LIMIT) {
      throw new ModelLoadError(
        dir,
        `the weights need ${gb(floatBytes)} as float32 tensors, and the wasm backend keeps every tensor in one heap of at most 4 GiB (${gb(WASM_DEVICE_LIMIT)} left for weights): load them with weights 'host' (the default 'auto' does so)`,
      );
    }
    const where = backend === 'wasm' ? 'the wasm heap' : backend === 'tensorflow' ? 'TensorFlow (device memory)' : `the ${backend} backend`;
    return { place, bytes: floatBytes, dtypes, line: `weights: ${gb(floatBytes)} float32 (stored ${dtypes.join('/').toLowerCase()}) as tensors on ${where} (${why})` };
  }
  // Host memory: the stored bytes plus room for activations, adapters and the runtime.
  const need = storedBytes + 0.5 * 1024 ** 3;
  if (need > memory.available) {
    throw new ModelLoadError(
      dir,
      `the weights need ${gb(storedBytes)} of host memory (stored ${dtypes.join('/').toLowerCase()}) plus working room, and this machine has ${gb(memory.available)} available of ${gb(memory.total)}`,
    );
  }
  const products = hostProductPath() === 'native' ? 'native products read them in place' : 'no native kernels: each product widens its matrix into a temporary tensor (slow; install libopenblas-dev and reinstall)';
  return {
    place,
    bytes: storedBytes,
    dtypes,
    line: `weights: ${gb(storedBytes)} ${dtypes.join('/').toLowerCase()}, host memory, ${products}; ${backend} heap: activations and adapters (${why})`,
  };
}

function hostMemory(): { available: number; total: number } {
  return { available: os.freemem(), total: os.totalmem() };
}

function gb(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
}
