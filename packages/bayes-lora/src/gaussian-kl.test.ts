import { tf } from '@bayes-peft/tensor';
import { setupTestBackend } from '@bayes-peft/testing-backbone';
import { KL_GUARD, gaussianKl, gaussianKlElement, gaussianKlLayer } from './gaussian-kl';

beforeAll(setupTestBackend);

describe('Gaussian KL (with the reference guards)', () => {
  it('matches a hand computation', () => {
    // beta = 0.2, guard 1e-6:
    // (M 0.1, sigma 0.05): log 0.200001 - log 0.050001 = 1.3862794; (0.0025 + 0.01) / 0.080001 = 0.1562480;
    //                      1.3862794 + 0.1562480 - 0.5 = 1.0425274
    // (M -0.2, sigma 0.3): log 0.200001 - log 0.300001 = -0.4054634; (0.09 + 0.04) / 0.080001 = 1.6249797;
    //                      -0.4054634 + 1.6249797 - 0.5 = 0.7195163
    expect(gaussianKlElement(0.1, 0.05, 0.2)).toBeCloseTo(1.0425274, 6);
    expect(gaussianKlElement(-0.2, 0.3, 0.2)).toBeCloseTo(0.7195163, 6);
    // summed over all elements of every layer
    const layers = [
      { mean: tf.tensor2d([[0.1]]), sigma: tf.tensor2d([[0.05]]) },
      { mean: tf.tensor2d([[-0.2, 0.1]]), sigma: tf.tensor2d([[0.3, 0.05]]) },
    ];
    const kl = gaussianKl(layers, 0.2);
    expect(kl.dataSync()[0]).toBeCloseTo(2 * 1.0425274 + 0.7195163, 5);
    tf.dispose([kl, ...layers.flatMap((l) => [l.mean, l.sigma])]);
  });

  it('is minimal, and 0 up to the guards, at sigma = beta and M = 0', () => {
    const beta = 0.2;
    const n = 4 * 64;
    const at = (m: number, s: number) =>
      tf.tidy(() => gaussianKlLayer(tf.fill([4, 64], m), tf.fill([4, 64], s), beta).dataSync()[0]);
    const min = at(0, beta);
    // per element: beta^2 / (2 beta^2 + 1e-6) - 1/2 = -1e-6 / (4 (2 beta^2 + 1e-6)) = -6.2499e-6
    const perElement = (beta * beta) / (2 * beta * beta + KL_GUARD) - 0.5;
    expect(perElement).toBeCloseTo(-6.25e-6, 9);
    // float32 (the reference uses float64): each element carries up to one ulp of 0.5 (6e-8) of rounding
    expect(Math.abs(min - n * perElement)).toBeLessThan(n * 6e-8);
    expect(Math.abs(min)).toBeLessThan(1e-5 * n);
    for (const [m, s] of [[0.01, beta], [0, beta * 1.1], [0, beta * 0.9], [-0.05, beta * 1.5]]) {
      expect(at(m, s)).toBeGreaterThan(min);
    }
  });

  it('has the closed-form gradients dKL/dM = 2M/(2b^2+1e-6) and dKL/dsigma = -1/(sigma+1e-6) + 2sigma/(2b^2+1e-6)', () => {
    const beta = 0.2;
    const M = tf.tensor2d([[0.3, -0.1]]);
    const S = tf.tensor2d([[0.05, 0.4]]);
    const [gM, gS] = tf.grads((m: tf.Tensor, s: tf.Tensor) => gaussianKlLayer(m, s, beta))([M, S]);
    const d = 2 * beta * beta + KL_GUARD;
    expect(Array.from(gM.dataSync())).toEqual([0.6 / d, -0.2 / d].map((x) => expect.closeTo(x, 4)));
    expect(Array.from(gS.dataSync())).toEqual([0.05, 0.4].map((s) => expect.closeTo(-1 / (s + KL_GUARD) + (2 * s) / d, 3)));
    tf.dispose([M, S, gM, gS]);
  });
});
