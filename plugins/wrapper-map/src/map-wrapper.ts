import { tf } from '@bayes-peft/tensor';
import { TOKENS, type LoraConfig, type RunContext, type TrainingPlan } from '@bayes-peft/core';
import { PointLoraWrapper, type PointLoraTrainingState } from '@bayes-peft/lora';
import { inject, injectable } from 'tsyringe';
import { gaussianPriorPenalty } from './map-math';
import { MAP_OPTIONS, type MapOptions } from './options';

/** Optimizer state of a MAP run, for resuming (not part of the PEFT adapter). */
export type MapTrainingState = PointLoraTrainingState;

/**
 * MAP LoRA (REFERENCE-SPEC 4.2): maximum likelihood plus weight decay (default 1e-5, the
 * reference's MAP) and, with `priorStd`, a Gaussian prior term on the adapter. The maths is in
 * map-math.ts; the training machinery is @bayes-peft/lora's PointLoraWrapper.
 */
@injectable()
export class MapWrapper extends PointLoraWrapper {
  readonly name = 'map';
  private numExamples = 0;

  constructor(
    @inject(TOKENS.RunContext) run: RunContext,
    @inject(TOKENS.LoraConfig) lora: LoraConfig,
    @inject(MAP_OPTIONS) override readonly options: MapOptions,
  ) {
    super(run, lora, options, 'map');
  }

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
  protected override extraLoss(vars: tf.Variable[]): { name: string; value: tf.Scalar } | null {
    const priorStd = this.options.priorStd;
    return priorStd === null ? null : { name: 'prior', value: gaussianPriorPenalty(vars, priorStd, this.numExamples) };
  }

  /** An MLE adapter is a MAP adapter without decay: no notice needed. */
  protected override compatibleSources(): readonly string[] {
    return ['map', 'mle'];
  }
}
