import { tf } from '@bayes-peft/tensor';
import type { Adapter, ForwardContext, LinearSite, Rng } from '@bayes-peft/core';

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
export class LoraAdapter implements Adapter {
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
