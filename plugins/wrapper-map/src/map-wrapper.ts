import type { TrainingPlan } from '@bayes-peft/core';
import { LoraWrapper, tf, type PointLoraTrainingState } from '@bayes-peft/lora';
import { gaussianPriorPenalty } from './map-math';
import type { MapOptions } from './options';

/** Optimizer state of a MAP run, for resuming (not part of the PEFT adapter). */
export type MapTrainingState = PointLoraTrainingState;

/**
 * MAP LoRA (docs/methods.md, 'MAP'; docs/reference-differences.md rows 44, 45): maximum likelihood plus weight decay (default 1e-5, the
 * reference's MAP) and, with `priorStd`, a Gaussian prior term on the adapter. The maths is in
 * map-math.ts; the lifecycle is @bayes-peft/lora's LoraWrapper.
 */
export class MapWrapper extends LoraWrapper<MapOptions> {
  readonly name = 'map';
  private numExamples = 0;

  /** The wrapper's weight decay wins over train.weightDecay. */
  protected override weightDecay(plan: TrainingPlan): number {
    const wd = this.options.weightDecay;
    if (plan.weightDecay !== 0 && plan.weightDecay !== wd) {
      this.run.log.warn(`map: train.weightDecay ${plan.weightDecay} is ignored; the wrapper's weightDecay ${wd} applies (set wrapper.options.weightDecay)`);
    }
    return wd;
  }

  override prepare(plan: TrainingPlan): void {
    super.prepare(plan);
    this.numExamples = plan.numTrainExamples;
    if (this.options.priorStd !== null && !(this.numExamples > 0)) {
      throw new Error(`map: priorStd needs the number of training examples, and the plan has ${plan.numTrainExamples}`);
    }
  }

  /** The Gaussian prior's per-example penalty, when `priorStd` is set. */
  protected override extraLoss(vars: tf.Variable[]): Record<string, tf.Scalar> {
    const priorStd = this.options.priorStd;
    return priorStd === null ? {} : { prior: gaussianPriorPenalty(vars, priorStd, this.numExamples) };
  }

  /** An MLE adapter is a MAP adapter without decay: no notice needed. */
  protected override compatibleSources(): readonly string[] {
    return ['map', 'mle'];
  }
}
