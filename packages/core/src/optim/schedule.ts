/**
 * The reference's learning-rate schedule (docs/methods.md, 'MLE and MAP'): torch's LambdaLR with a linear
 * warmup to the base rate over W steps, then a linear decay to 0 at step T,
 *
 *   factor(s) = s / max(1, W)                  for s < W
 *             = max(0, (T - s) / max(1, T - W)) otherwise,
 *
 * with W = T * warmupRatio kept as a float (not rounded). Step s is zero-based and is the step
 * whose optimizer update uses the rate: torch evaluates factor(0) when the scheduler is built,
 * uses it for the first `opt.step()`, and `sched.step()` moves to factor(1). With W > 0 the first
 * update therefore runs at lr 0 (moments still accumulate), exactly as in the reference.
 */
export interface LinearScheduleOptions {
  /** T: the step at which the rate reaches 0. */
  readonly totalSteps: number;
  /** W: warmup length in steps, may be fractional (T * warmupRatio). */
  readonly warmupSteps: number;
}

export function linearWarmupDecay(step: number, { totalSteps: T, warmupSteps: W }: LinearScheduleOptions): number {
  if (step < W) return step / Math.max(1, W);
  return Math.max(0, (T - step) / Math.max(1, T - W));
}

/** W from T and the spec's warmup ratio, as the reference computes it (a float). */
export function warmupStepsFromRatio(totalSteps: number, warmupRatio: number): number {
  return totalSteps * warmupRatio;
}

/** A base learning rate under the linear warmup/decay schedule. Stateless: lr(step) for any step. */
export class LinearWarmupDecay {
  constructor(
    readonly baseLr: number,
    readonly options: LinearScheduleOptions,
  ) {
    if (!(options.totalSteps >= 0) || !(options.warmupSteps >= 0)) {
      throw new Error(`LinearWarmupDecay: totalSteps (${options.totalSteps}) and warmupSteps (${options.warmupSteps}) must be >= 0`);
    }
  }

  factor(step: number): number {
    return linearWarmupDecay(step, this.options);
  }

  /** The rate the optimizer update of zero-based step `step` uses. */
  lr(step: number): number {
    return this.baseLr * this.factor(step);
  }
}
