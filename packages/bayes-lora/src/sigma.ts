/**
 * The posterior std sigma of a variational LoRA A and its free parameter rho (docs/methods.md, 'BLoB'):
 * the map sigma(rho), its inverse (TFB sets sigma directly), and BLoB's initialisation of rho.
 */
import { tf } from '@bayes-peft/tensor';
import type { Rng } from '@bayes-peft/core';

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

/**
 * The inverse map: rho = sqrt(sigma) (eps >= 0) or log(e^sigma - 1) (eps < 0), for sigma >= 0.
 * With eps < 0, sigma = 0 has no finite rho (the reference's TFB writes -inf,
 * docs/reference-differences.md row 73); it is refused here.
 */
export function rhoOf(sigma: number, eps: number): number {
  if (!(sigma >= 0) || !Number.isFinite(sigma)) throw new Error(`sigma must be finite and >= 0, got ${sigma}`);
  if (eps >= 0) return Math.sqrt(sigma);
  if (sigma === 0) throw new Error('sigma = 0 has no finite rho under sigma = softplus(rho) (eps < 0); use eps >= 0');
  return Math.log(Math.expm1(sigma));
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
