import { tf } from '@bayes-peft/tensor';
import { setupTestBackend } from '@bayes-peft/testing-backbone';
import { blobFamily } from './blob-math';

beforeAll(setupTestBackend);

describe("BLoB's posterior family", () => {
  it('is Gaussian noise E = sigma ⊙ z with the guarded Gaussian KL (hand computation)', () => {
    expect(blobFamily.noise.name).toBe('gaussian');
    // beta 0.2, (M 0.1, sigma 0.05): log 0.200001 - log 0.050001 + (0.0025 + 0.01) / 0.080001 - 0.5 = 1.0425274
    const mean = tf.tensor2d([[0.1, 0.1]]);
    const sigma = tf.tensor2d([[0.05, 0.05]]);
    const kl = blobFamily.kl([{ mean, sigma }], 0.2);
    expect(kl.dataSync()[0]).toBeCloseTo(2 * 1.0425274, 5);
    const z = tf.tensor2d([[1, -2]]);
    const E = blobFamily.noise.perturbation(sigma, z);
    expect(Array.from(E.dataSync())).toEqual([0.05, -0.1].map((x) => expect.closeTo(x, 7)));
    tf.dispose([mean, sigma, kl, z, E]);
  });
});
