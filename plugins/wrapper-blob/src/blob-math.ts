/**
 * All of BLoB's maths (REFERENCE-SPEC 4.5), in one place: the sigma parameterisation and the
 * rho initialisation, the Gaussian KL with its 1e-6 guards, the KL weight pi and the cycle
 * length M. The flipout sampler that uses sigma lives in flipout-adapter.ts.
 *
 * Variational family: only LoRA's A is stochastic, q(A) = N(M, sigma^2) elementwise with
 * M = lora_A, B deterministic; prior p(A) = N(0, beta^2), beta = `beta` (a prior std).
 */
import { tf } from '@bayes-peft/tensor';
import type { Rng } from '@bayes-peft/core';

/** The reference's guard in the KL (both logs and the denominator). */
export const KL_GUARD = 1e-6;

/**
 * sigma(rho) = rho^2 when eps >= 0 (the default, eps = 0.05), softplus(rho) = log(1 + e^rho)
 * when eps < 0.
 */
export function sigmaFromRho(rho: tf.Tensor, eps: number): tf.Tensor {
  return eps >= 0 ? tf.square(rho) : tf.softplus(rho);
}

/** The same map on a host number (docs, tests, reports). */
export function sigmaOf(rho: number, eps: number): number {
  return eps >= 0 ? rho * rho : Math.log1p(Math.exp(rho));
}

/** The interval rho is drawn from: U(eps / sqrt 2, eps) for eps >= 0 (sigma in [eps^2/2, eps^2]), else U(eps - 1, eps). */
export function rhoInitRange(eps: number): [number, number] {
  return eps >= 0 ? [eps / Math.SQRT2, eps] : [eps - 1, eps];
}

/** Initial rho of one layer, [rows * cols] row-major, uniform on `rhoInitRange(eps)`. */
export function initRho(rows: number, cols: number, eps: number, rng: Rng): Float32Array {
  const [lo, hi] = rhoInitRange(eps);
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * rng.next();
  return out;
}

/**
 * KL(q || p) of one layer's A, summed over all its elements:
 *
 *   sum [ log(beta + 1e-6) - log(sigma + 1e-6) + (sigma^2 + M^2) / (2 beta^2 + 1e-6) - 1/2 ]
 *
 * (the closed form of KL(N(M, sigma^2) || N(0, beta^2)) with the reference's guards).
 * Elementwise first, then summed, so the near-cancelling terms stay accurate in float32.
 */
export function gaussianKlLayer(mean: tf.Tensor, sigma: tf.Tensor, beta: number): tf.Scalar {
  return tf.tidy(() => {
    const logRatio = tf.sub(Math.log(beta + KL_GUARD), tf.log(tf.add(sigma, KL_GUARD)));
    const quad = tf.div(tf.add(tf.square(sigma), tf.square(mean)), 2 * beta * beta + KL_GUARD);
    return tf.sum(tf.sub(tf.add(logRatio, quad), 0.5)) as tf.Scalar;
  });
}

/** The KL of the whole adapter: summed over every LoRA layer (lm_head included). */
export function gaussianKl(layers: readonly { mean: tf.Tensor; sigma: tf.Tensor }[], beta: number): tf.Scalar {
  return tf.tidy(() => tf.addN(layers.map((l) => gaussianKlLayer(l.mean, l.sigma, beta))) as tf.Scalar);
}

/** Host version of one KL element, for tests and docs. */
export function gaussianKlElement(mean: number, sigma: number, beta: number): number {
  return Math.log(beta + KL_GUARD) - Math.log(sigma + KL_GUARD) + (sigma * sigma + mean * mean) / (2 * beta * beta + KL_GUARD) - 0.5;
}

export interface KlCycleInput {
  /** `datasetRescaling`: M from the dataset size instead of the loader length. */
  readonly datasetRescaling: boolean;
  /** N: training examples per epoch. */
  readonly numTrainExamples: number;
  readonly batchSize: number;
  /** gamma (default 8). */
  readonly gamma: number;
  /** Batches per epoch (per process). */
  readonly stepsPerEpoch: number;
  /** The reference divides by the process count (pre/post-accelerate loader lengths); 1 here. */
  readonly numProcesses?: number;
}

/**
 * M, the number of minibatches the KL is spread over:
 *   datasetRescaling: M = int(100 * N^(pi / gamma) / numProcesses / batchSize)
 *                          (winogrande_s: N 640, batch 4, gamma 8 -> 316)
 *   otherwise:        M = stepsPerEpoch (len(train_loader)).
 */
export function klCycleLength(input: KlCycleInput): number {
  const M = input.datasetRescaling
    ? Math.trunc((100 * input.numTrainExamples ** (Math.PI / input.gamma)) / (input.numProcesses ?? 1) / input.batchSize)
    : input.stepsPerEpoch;
  if (!Number.isFinite(M) || M < 1) {
    throw new Error(
      `blob: the KL cycle length M is ${M} (datasetRescaling ${input.datasetRescaling}, N ${input.numTrainExamples}, ` +
        `batch ${input.batchSize}, gamma ${input.gamma}, steps per epoch ${input.stepsPerEpoch}); it must be >= 1`,
    );
  }
  return M;
}

/**
 * pi, the KL weight of step i (one-based: the reference's counter starts at 1 and the i-th
 * training step uses i):
 *   klReweighting: j = i mod M (j := M when 0); pi = 2^j / (2^(M+1) - 1)
 *   otherwise:     pi = 1 / M.
 * Computed as 2^(j-M-1) / (1 - 2^-(M+1)), which equals the reference's big-integer ratio and
 * underflows to exactly 0 where it does (M - j > ~1074) instead of overflowing to NaN.
 */
export function klWeight(i: number, M: number, klReweighting: boolean): number {
  if (!klReweighting) return 1 / M;
  let j = i % M;
  if (j === 0) j = M;
  return 2 ** (j - M - 1) / (1 - 2 ** -(M + 1));
}
