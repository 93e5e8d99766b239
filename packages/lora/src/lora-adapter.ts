import { tf } from '@bayes-peft/tensor';
import type { Adapter, ForwardContext, LinearSite, Rng } from '@bayes-peft/core';
import type { OnnxAdapter, OnnxFeed, OnnxGraphBuilder, OnnxSiteInfo } from '@bayes-peft/onnx';

export interface LoraShape {
  readonly r: number;
  readonly alpha: number;
  readonly dropout: number;
}

let nextId = 0;

/**
 * LoRA on one linear site: delta(x) = (alpha / r) * B A dropout(x), with PEFT's initialisation
 * (A ~ kaiming-uniform(a = sqrt 5) = U(-1/sqrt(in), 1/sqrt(in)), B = 0), so a fresh adapter
 * leaves the model unchanged.
 */
export class LoraAdapter implements Adapter, OnnxAdapter {
  /** [r, in] */
  readonly A: tf.Variable;
  /** [out, r] */
  readonly B: tf.Variable;
  readonly scaling: number;

  constructor(readonly site: LinearSite, readonly shape: LoraShape, rng: Rng, namePrefix = 'lora') {
    const { inFeatures: fanIn, outFeatures: fanOut } = site;
    const bound = 1 / Math.sqrt(fanIn);
    const a = new Float32Array(shape.r * fanIn);
    for (let i = 0; i < a.length; i++) a[i] = (2 * rng.next() - 1) * bound;
    // Variable names are global in TensorFlow.js: a serial number keeps two models (ensemble
    // members, runs in one process) apart. tf.variable copies its initial value; tidy frees the
    // temporaries (variables survive it).
    const id = nextId++;
    [this.A, this.B] = tf.tidy(() => [
      tf.variable(tf.tensor2d(a, [shape.r, fanIn]), true, `${namePrefix}/${site.name}/A#${id}`),
      tf.variable(tf.zeros([fanOut, shape.r]), true, `${namePrefix}/${site.name}/B#${id}`),
    ]);
    this.scaling = shape.alpha / shape.r;
  }

  /** Inverted dropout on the adapter input, active only while training. */
  dropoutInput(x: tf.Tensor, ctx: ForwardContext, force = false): tf.Tensor {
    const p = this.shape.dropout;
    if (p <= 0 || (!ctx.training && !force)) return x;
    const keep = tf.greaterEqual(tf.randomUniform(x.shape, 0, 1, 'float32', ctx.rng.nextSeed()), p);
    return tf.mul(x, tf.mul(tf.cast(keep, 'float32'), 1 / (1 - p)));
  }

  /** x [..., in] -> x A^T [..., r]. */
  down(x: tf.Tensor, A: tf.Tensor = this.A): tf.Tensor {
    return linear(x, A);
  }

  /** h [..., r] -> scaling * h B^T [..., out]. */
  up(h: tf.Tensor): tf.Tensor {
    return tf.mul(linear(h, this.B), this.scaling);
  }

  delta(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    return this.up(this.down(this.dropoutInput(x, ctx)));
  }

  onnxSignature(): string {
    return 'lora-mean';
  }

  /** The evaluation-time delta (no dropout). */
  emitOnnx(g: OnnxGraphBuilder, x: string, info: OnnxSiteInfo): string {
    const { At, Bt } = declareLoraInputs(g, info, this.shape.r);
    return emitLoraUp(g, emitLoraDown(g, x, At), Bt, this.scaling);
  }

  onnxShared(info: OnnxSiteInfo): Record<string, OnnxFeed> {
    return loraOnnxFeeds(this, info);
  }

  onnxSample(): Record<string, OnnxFeed> {
    return {};
  }

  variables(): tf.Variable[] {
    return [this.A, this.B];
  }

  dispose(): void {
    this.A.dispose();
    this.B.dispose();
  }
}

/** x [..., in] times W^T for W [out, in]: [..., out]. */
export function linear(x: tf.Tensor, W: tf.Tensor): tf.Tensor {
  const inF = x.shape[x.shape.length - 1];
  const lead = x.shape.slice(0, -1);
  const y = tf.matMul(tf.reshape(x, [-1, inF]), W, false, true);
  return tf.reshape(y, [...lead, W.shape[0]]);
}

/**
 * LoRA's inputs in an ONNX graph: `<prefix>A_t` = A^T [in, r] and `<prefix>B_t` = B^T [r, out],
 * transposed on the host (a few KiB per run instead of a transpose node per run).
 */
export function declareLoraInputs(g: OnnxGraphBuilder, info: OnnxSiteInfo, r: number): { readonly At: string; readonly Bt: string } {
  return { At: g.input(`${info.prefix}A_t`, [info.site.inFeatures, r]), Bt: g.input(`${info.prefix}B_t`, [r, info.site.outFeatures]) };
}

/** x [..., in] -> x A^T [..., r], as `down` computes it. */
export function emitLoraDown(g: OnnxGraphBuilder, x: string, At: string): string {
  return g.op('MatMul', [x, At]);
}

/** h [..., r] -> scaling * h B^T [..., out], as `up` computes it. */
export function emitLoraUp(g: OnnxGraphBuilder, h: string, Bt: string, scaling: number): string {
  return g.op('Mul', [g.op('MatMul', [h, Bt]), g.constant(new Float32Array([scaling]), [])]);
}

/** Values of emitLoraDown's and emitLoraUp's inputs. */
export function loraOnnxFeeds(lora: LoraAdapter, info: OnnxSiteInfo): Record<string, OnnxFeed> {
  const [r, inF] = lora.A.shape;
  const out = lora.B.shape[0];
  return {
    [`${info.prefix}A_t`]: { data: transposeHost(lora.A.dataSync() as Float32Array, r, inF), dims: [inF, r] },
    [`${info.prefix}B_t`]: { data: transposeHost(lora.B.dataSync() as Float32Array, out, r), dims: [r, out] },
  };
}

/** [rows, cols] row-major -> [cols, rows]. */
export function transposeHost(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = m[i * cols + j];
  return out;
}
