import { UserError, type LoraConfig, type Rng, type RunContext, type TrainingPlan } from '@bayes-peft/core';
import { LoraWrapper, type LoraAdapter } from '@bayes-peft/lora';
import type { ZeroShotOptions } from './options';
import { ZeroShotAdapter } from './zero-shot-adapter';
import type { NoiseSpec } from './zero-shot-math';

/**
 * Zero-shot Bayesian evaluation (docs/methods.md, 'Zero-shot Bayesian evaluation'; the reference's
 * run_bayesian_zeroshot_qa.py): no training at all. Each site gets a LoRA initialised as any
 * other (A0 kaiming-uniform from the run's `lora` stream, B0 = 0), or the adapter the spec loads,
 * and every weight sample perturbs it with i.i.d. noise of scale sigma (zero-shot-math.ts).
 * `predict` returns `samples` passes, each its own weight sample; a generated sequence keeps
 * its sample's draw for every decoding step. The lifecycle is @bayes-peft/lora's LoraWrapper.
 */
export class ZeroShotWrapper extends LoraWrapper<ZeroShotOptions, ZeroShotAdapter> {
  readonly name = 'zero-shot-bayes';
  readonly trainingFree = true;
  /** Pass s of a predict call draws from the call's stream `sample-<s>`, so the passes are independent weight samples. */
  protected override readonly passStream = 'sample';

  constructor(run: RunContext, lora: LoraConfig, options: ZeroShotOptions) {
    super(run, { ...lora, targets: [...options.targets] }, options);
  }

  /** The LoRA config the adapters are built with: the run's rank and alpha, this wrapper's targets. */
  get loraConfig(): LoraConfig {
    return this.lora;
  }

  /** What each site draws. */
  get noise(): NoiseSpec {
    return { kind: this.options.noise, sigma: this.options.sigma, perturb: this.options.perturb };
  }

  protected override createAdapter(lora: LoraAdapter): ZeroShotAdapter {
    return new ZeroShotAdapter(lora, this.noise);
  }

  /** `samples` weight samples in every phase (training-free: there are no intermediate evaluations). */
  protected override samples(): number {
    return this.options.samples;
  }

  protected override fixDraws(draws: readonly ((site: string) => Rng)[]): void {
    for (const [name, layer] of this.layers) layer.fixNoise(draws.map((d) => d(name)));
  }

  protected override releaseDraws(): void {
    for (const layer of this.layers.values()) layer.releaseNoise();
  }

  override prepare(_plan: TrainingPlan): void {
    this.run.log.warn(`${this.name} is training-free: prepare() does nothing (the runner skips training for it)`);
  }

  /** Never called by the runner (trainingFree); no parameters, so it fits the contract whatever a step takes. */
  override trainStep(): never {
    throw new UserError(`${this.name} is training-free: it perturbs an untrained (or loaded) LoRA and never trains (set train.steps: 0)`);
  }

  protected override foreignAdapterNote(): string {
    return `perturbing its LoRA (A, B) with ${this.options.noise} noise of scale ${this.options.sigma} (${this.options.perturb})`;
  }
}
