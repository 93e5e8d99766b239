/**
 * BLoB's KL weighting (docs/methods.md, 'BLoB', KL weight pi): the cycle length M and the weight pi of step i.
 * Shared by every method trained like BLoB (blob, blob-laplace).
 */

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
  /** Names the method in the error message. */
  readonly method?: string;
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
      `${input.method ?? 'blob'}: the KL cycle length M is ${M} (datasetRescaling ${input.datasetRescaling}, N ${input.numTrainExamples}, ` +
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
