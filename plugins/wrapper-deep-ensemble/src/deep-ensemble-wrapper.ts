import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { tf } from '@bayes-peft/tensor';
import { referenceParamGroups, type AveragingRule, type LinearSite, type LoraConfig, type Rng, type RunContext, type TrainBatch, type TrainingPlan, type TrainStepResult } from '@bayes-peft/core';
import { ADAPTER_CONFIG, LoraAdapter, LoraWrapper, assignLoraFromPeft, loraPeftTensors, type PeftAdapterFiles, type StepGradients, type Trainer } from '@bayes-peft/lora';
import { EnsembleAdapter } from './ensemble-adapter';
import { memberInitRng } from './ensemble-math';
import type { DeepEnsembleOptions } from './options';

/** The folder of member m inside a saved ensemble: the root for member 0 (PEFT's default adapter), `adapter_<m>/` after. */
export function memberDir(dir: string, member: number): string {
  return member === 0 ? dir : path.join(dir, `adapter_${member}`);
}

/** The name of member m's optimizer state in a training state. */
export function memberStateKey(member: number): string {
  return `member-${member}`;
}

/**
 * Deep ensemble of LoRA adapters (docs/methods.md, 'Deep ensemble'): `members` independently initialised LoRAs
 * per site behind one switching adapter, each trained on every batch by its own optimizer and
 * schedule; `predict` stacks the members' logits [B, n, C] (member m is weight sample m of the
 * backbone's sampled forward), combined by `averaging`. The maths is in ensemble-math.ts; the
 * lifecycle is @bayes-peft/lora's LoraWrapper.
 */
export class DeepEnsembleWrapper extends LoraWrapper<DeepEnsembleOptions, EnsembleAdapter> {
  readonly name = 'deep-ensemble';
  protected override readonly passStream = 'member';

  constructor(run: RunContext, lora: LoraConfig, options: DeepEnsembleOptions) {
    if (!(Number.isInteger(options.members) && options.members >= 1)) throw new Error(`deep-ensemble: members must be an integer >= 1, got ${options.members}`);
    super(run, lora, options);
  }

  /** 'probs' (mean of the members' probabilities) or 'logits' (softmax of the mean logits, the reference). */
  override get averaging(): AveragingRule {
    return this.options.averaging;
  }

  get members(): number {
    return this.options.members;
  }

  /** Member 0 draws from the run's lora stream itself, as MLE/MAP/BLoB of one seed do. */
  protected override loraRng(): Rng {
    return memberInitRng(this.run.rng.child('lora'), 0);
  }

  /** Members 1..n-1 per site from their own streams (each site's init from <stream>/<site name>, as installLora does). */
  protected override createAdapter(first: LoraAdapter, site: LinearSite): EnsembleAdapter {
    const loraRng = this.run.rng.child('lora');
    const rest = Array.from({ length: this.members - 1 }, (_, k) => new LoraAdapter(site, this.lora, memberInitRng(loraRng, k + 1).child(site.name), `${this.prefix}m${k + 1}`));
    return new EnsembleAdapter([first, ...rest]);
  }

  /** One optimizer (the plan's) and one schedule per member, same hyperparameters. */
  protected override createTrainers(plan: TrainingPlan): Record<string, Trainer> {
    return Object.fromEntries(Array.from({ length: this.members }, (_, m) => [memberStateKey(m), this.planTrainer(plan, referenceParamGroups(this.memberVariables(m), plan.weightDecay))]));
  }

  /**
   * Every member takes one step on the batch (the reference: per member a forward, backward and
   * step). All gradients are computed and checked before any member steps, so a non-finite loss
   * leaves every member untouched (members share no parameters: the order does not matter).
   */
  override trainStep(batch: TrainBatch, step: number): TrainStepResult {
    const objective = this.objective(batch);
    const trainers = Array.from({ length: this.members }, (_, m) => this.trainer(memberStateKey(m)));
    const lrs = trainers.map((t) => t.schedule.lr(step));
    let steps: StepGradients[] = [];
    try {
      tf.tidy(() => {
        steps = trainers.map((_, m) => {
          this.setActive(m);
          const memberCtx = { training: true, rng: this.rng.child(`train/${step}/member-${m}`) };
          return this.gradients(this.memberVariables(m), objective, () => objective.forward(memberCtx));
        });
        const bad = steps.map((g, m) => [`member${m}_nll`, g.values.nll] as const).filter(([, v]) => !Number.isFinite(v));
        this.assertFinite(step, Object.fromEntries(bad), 'no member was updated');
        steps.forEach((g, m) => trainers[m].optimizer.step(g.grads, lrs[m]));
      });
    } finally {
      this.setActive(0);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const nll = mean(steps.map((g) => g.values.nll));
    const result: Record<string, number> = { loss: nll, nll, acc: mean(steps.map((g) => g.acc)), lr: lrs[0] };
    steps.forEach((g, m) => (result[`member${m}_nll`] = g.values.nll));
    return result as TrainStepResult;
  }

  /** One deterministic pass per member, whatever the phase. */
  protected override samples(): number {
    return this.members;
  }

  /**
   * The PEFT layout of a multi-adapter model: member 0 at `dir` as PEFT's default adapter,
   * member m >= 1 in `dir/adapter_<m>/` (the names the reference's add_adapter gives, and where
   * PEFT's save_pretrained puts extra adapters), each a complete adapter folder.
   */
  override async save(dir: string): Promise<void> {
    for (let m = 0; m < this.members; m++) {
      const meta = m === 0 ? { wrapper: 'deep-ensemble', options: this.options, member: 0 } : { wrapper: 'deep-ensemble', member: m };
      await this.writeAdapter(memberDir(dir, m), loraPeftTensors(this.memberLoras(m)), meta);
    }
  }

  /**
   * Loads member m from its own folder (the reference loads the root into members 1..n-1 and
   * leaves member 0 untrained: docs/reference-differences.md row 50). The folder must hold
   * exactly `members` members.
   */
  override async load(dir: string): Promise<void> {
    this.requireBackbone('load');
    const n = this.members;
    const saved = await countSavedMembers(dir);
    if (saved !== n) {
      throw new Error(
        `${dir}: holds ${saved} ensemble member${saved === 1 ? '' : 's'} (the root${saved > 1 ? ` and adapter_1..adapter_${saved - 1}` : ''}), this run's deep ensemble has members: ${n}`,
      );
    }
    const files: PeftAdapterFiles[] = [];
    for (let m = 0; m < n; m++) files.push(await this.readAdapter(memberDir(dir, m)));
    const from = typeof files[0].meta.wrapper === 'string' ? files[0].meta.wrapper : null;
    if (from && from !== 'deep-ensemble') this.run.log.info(`deep-ensemble: ${dir} holds a '${from}' adapter; loading its LoRA (A, B) as the single member`);
    files.forEach((f, m) => assignLoraFromPeft(f, this.memberLoras(m)));
  }

  /** Member m's A and B of every site, in site order. */
  memberVariables(m: number): tf.Variable[] {
    return [...this.memberLoras(m).values()].flatMap((l) => l.variables());
  }

  /** Every member's variables, member by member. */
  override variables(): tf.Variable[] {
    return Array.from({ length: this.layers.size ? this.members : 0 }, (_, m) => this.memberVariables(m)).flat();
  }

  private memberLoras(m: number): Map<string, LoraAdapter> {
    return new Map([...this.layers].map(([site, l]) => [site, l.members[m]]));
  }

  private setActive(m: number): void {
    for (const l of this.layers.values()) l.active = m;
  }
}

/** 1 (the root) plus the consecutive `adapter_<m>/` folders holding an adapter config. */
async function countSavedMembers(dir: string): Promise<number> {
  let m = 1;
  while (
    await fs.access(path.join(memberDir(dir, m), ADAPTER_CONFIG)).then(
      () => true,
      () => false,
    )
  )
    m++;
  return m;
}
