/**
 * BLoB's maths (docs/methods.md, 'BLoB'): which building blocks of @bayes-peft/bayes-lora make the
 * method. The blocks are shared with blob-laplace and tfb, so they live there, each in one file:
 *
 *   variational family  q(A) = N(M, sigma^2) elementwise, M = lora_A, B deterministic;
 *                       prior p(A) = N(0, beta^2), beta = `beta` (a prior std)
 *   sigma(rho)          sigma = rho^2 (eps >= 0), softplus(rho) (eps < 0); rho ~ U(eps/sqrt 2, eps)  sigma.ts
 *   sampler             flipout, E = sigma ⊙ z, z ~ N(0, 1) once per forward call,
 *                       sign vectors per token                                        noise.ts, flipout-adapter.ts
 *   KL                  sum [log(beta + 1e-6) - log(sigma + 1e-6)
 *                            + (sigma^2 + M^2) / (2 beta^2 + 1e-6) - 1/2]               gaussian-kl.ts
 *   KL weight           pi = 2^j / (2^(M+1) - 1) or 1/M; M = int(100 N^(pi/gamma)/batch)
 *                       or the steps per epoch                                          kl-weight.ts
 *   training step       AdamW on A, B with the NLL, then SGD(klLr) on rho (NLL + pi KL)
 *                       and A (pi KL); or one optimizer on NLL + pi KL                 variational-lora-wrapper.ts
 */
import { gaussianKl, gaussianNoise, type PosteriorFamily } from '@bayes-peft/bayes-lora';

/** BLoB's posterior family: Gaussian noise on A and the Gaussian KL with the reference's guards. */
export const blobFamily: PosteriorFamily = { noise: gaussianNoise, kl: gaussianKl };

// The building blocks under the names this package exported before they moved to bayes-lora.
export {
  KL_GUARD,
  gaussianKl,
  gaussianKlElement,
  gaussianKlLayer,
  initRho,
  klCycleLength,
  klWeight,
  rhoInitRange,
  sigmaFromRho,
  sigmaOf,
  type KlCycleInput,
} from '@bayes-peft/bayes-lora';
