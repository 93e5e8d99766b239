/**
 * TFB's search for the noise scale beta (docs/methods.md, 'TFB'): bisection on [low, high] for
 * the largest beta whose anchor criterion stays within the tolerance.
 *
 *     repeat `iterations` times (tfblora_acc also stops once high - low < 5e-4):
 *         mid = (low + high) / 2;  value = criterion(mid)
 *         value <= tolerance ? low = mid (accepted) : high = mid (rejected)
 *     beta = low
 *
 * so the result is the largest candidate that was accepted, and every rejected candidate lies
 * above it. If none was accepted the result is the lower bound (untested; `acceptedAny` says
 * so). The reference instead returns the last candidate that was *rejected* (the initial upper
 * bound if none was): a beta known to break the tolerance (docs/reference-differences.md row 67), kept
 * behind `lastViolating`.
 */

export interface BetaSearchOptions {
  readonly low: number;
  readonly high: number;
  readonly iterations: number;
  readonly tolerance: number;
  /** Stop once high - low < minWidth (tfblora_acc: 5e-4; 0: never). */
  readonly minWidth: number;
  /** The reference's result: the last rejected candidate, or `high` if none was rejected. */
  readonly lastViolating: boolean;
}

export interface BetaSearchStep {
  readonly iteration: number;
  readonly beta: number;
  /** The criterion at beta. */
  readonly value: number;
  /** value <= tolerance. */
  readonly accepted: boolean;
  /** The interval after this step. */
  readonly low: number;
  readonly high: number;
}

export interface BetaSearchResult {
  readonly beta: number;
  readonly steps: readonly BetaSearchStep[];
  /** Whether some candidate met the tolerance (otherwise `beta` is the untested lower bound, or the reference's choice). */
  readonly acceptedAny: boolean;
}

export async function searchBeta(
  options: BetaSearchOptions,
  criterion: (beta: number) => Promise<number>,
  onStep?: (step: BetaSearchStep) => void,
): Promise<BetaSearchResult> {
  let { low, high } = options;
  if (!(low >= 0 && high > low)) throw new Error(`beta search: need 0 <= low < high, got low ${low}, high ${high}`);
  let lastRejected = high;
  let acceptedAny = false;
  const steps: BetaSearchStep[] = [];
  for (let iteration = 0; iteration < options.iterations; iteration++) {
    if (options.minWidth > 0 && high - low < options.minWidth) break;
    const mid = (low + high) / 2;
    const value = await criterion(mid);
    const accepted = value <= options.tolerance;
    if (accepted) {
      low = mid;
      acceptedAny = true;
    } else {
      high = mid;
      lastRejected = mid;
    }
    const step = { iteration, beta: mid, value, accepted, low, high };
    steps.push(step);
    onStep?.(step);
  }
  return { beta: options.lastViolating ? lastRejected : low, steps, acceptedAny };
}
