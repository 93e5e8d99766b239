// A correct, minimal LoRA wrapper for the testkit's own tests (the testkit cannot depend on a
// wrapper plugin: those depend on it). The broken variants in checks.test.ts subclass it.
import { createOptimizer, defineWrapper, trainObjective, type Backbone, type EncodedBatch, type EvalPhase, type GenerateOptions, type GenerationResult, type LoraConfig, type McqBatch, type Optimizer, type PredictOptions, type RunContext, type TrainBatch, type TrainingPlan, type TrainStepResult, type Wrapper } from '@bayes-peft/core';
import { assignLoraFromPeft, checkAdapterCompatible, installLora, loadPeftAdapter, loraPeftTensors, removeAdapters, savePeftAdapter, type LoraAdapter } from '@bayes-peft/lora';
import { tf } from '@bayes-peft/tensor';
import { z } from 'zod';

let instances = 0;

export class PlainLoraWrapper implements Wrapper {
  readonly name = 'plain';
  readonly averaging = 'probs' as const;
  protected backbone: Backbone | null = null;
  protected loras = new Map<string, LoraAdapter>();
  protected optimizer: Optimizer | null = null;
  private lr = 0;
  private readonly prefix = `plain${instances++}`;

  constructor(
    protected readonly run: RunContext,
    protected readonly lora: LoraConfig,
  ) {}

  attach(backbone: Backbone): void {
    this.backbone = backbone;
    let installed!: ReturnType<typeof installLora>;
    tf.tidy(() => {
      installed = installLora(backbone, this.lora, this.run.rng.child('lora'), undefined, this.prefix);
    });
    for (const [site, { lora }] of installed) this.loras.set(site, lora);
  }

  prepare(plan: TrainingPlan): void {
    this.optimizer = createOptimizer('adamw', this.variables(), { lr: plan.lr, eps: plan.adamEpsilon });
    this.lr = plan.lr;
  }

  trainStep(batch: TrainBatch, step: number): TrainStepResult {
    const ctx = { training: true, rng: this.run.rng.child(`train/${step}`) };
    const objective = trainObjective(this.backbone!, batch);
    const nll = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => objective.nll(objective.forward(ctx)), this.variables());
      this.optimizer!.step(grads, this.lr);
      tf.dispose(grads);
      return value.dataSync()[0];
    });
    return { loss: nll, nll };
  }

  predict(batch: McqBatch, _options: PredictOptions): Promise<tf.Tensor3D> {
    const ctx = { training: false, rng: this.run.rng.child('predict') };
    return this.backbone!.sampledForward(batch.tokens, { samples: 1, columns: batch.targetIds, sampleContext: () => ctx });
  }

  async generate(batch: EncodedBatch, options: GenerateOptions & { phase: EvalPhase }): Promise<GenerationResult[][]> {
    const { phase: _phase, ...rest } = options;
    return (await this.backbone!.generate(batch, rest)).map((r) => [r]);
  }

  async save(dir: string): Promise<void> {
    await savePeftAdapter(dir, { config: this.lora, baseModel: this.backbone!.id, tensors: loraPeftTensors(this.loras) });
  }

  async load(dir: string): Promise<void> {
    const files = await loadPeftAdapter(dir);
    checkAdapterCompatible(files.config, this.lora, dir);
    assignLoraFromPeft(files, this.loras);
  }

  variables(): tf.Variable[] {
    return [...this.loras.values()].flatMap((l) => l.variables());
  }

  dispose(): void {
    this.optimizer?.dispose();
    if (this.backbone) removeAdapters(this.backbone, this.loras.values());
    for (const l of this.loras.values()) l.dispose();
    this.loras.clear();
    this.backbone = null;
  }
}

/** A wrapper plugin whose wrapper `make` builds from the run's context and LoRA config. */
export function pluginOf(name: string, make: (run: RunContext, lora: LoraConfig) => Wrapper) {
  return defineWrapper({
    name,
    version: '0.0.0',
    description: `test wrapper ${name}`,
    options: z.object({}).strict().default({}),
    create: ({ run, lora }) => make(run, lora),
  });
}
