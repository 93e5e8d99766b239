/**
 * Training of a variational LoRA the way BLoB does it (docs/methods.md, 'BLoB'; rows 22-29 of docs/reference-differences.md), for any posterior
 * family: weight-sampled NLL, a KL to the prior weighted by pi over cycles of M steps, and the
 * reference's optimiser split (or one optimizer on NLL + pi KL). The family (noise and KL) is
 * the plugin's; everything else here is shared by blob and blob-laplace.
 */
import { tf } from '@bayes-peft/tensor';
import {
  LinearWarmupDecay,
  NonFiniteLossError,
  Sgd,
  classAccuracy,
  referenceParamGroups,
  type ForwardContext,
  type LoraConfig,
  type OptimizerState,
  type RunContext,
  type TrainBatch,
  type TrainingPlan,
  type TrainStepResult,
} from '@bayes-peft/core';
import { takeTensor, type PeftAdapterFiles, type Trainer } from '@bayes-peft/lora';
import { FlipoutLoraWrapper } from './flipout-lora-wrapper';
import type { PosteriorLayer } from './gaussian-kl';
import { klCycleLength, klWeight } from './kl-weight';
import type { NoiseFamily } from './noise';
import type { VariationalLoraOptions } from './variational-options';

/** A posterior family: how A is perturbed, and KL(q || p) of the whole adapter for prior std beta. */
export interface PosteriorFamily {
  readonly noise: NoiseFamily;
  kl(layers: readonly PosteriorLayer[], beta: number): tf.Scalar;
}

/** Optimizer state of a run, for resuming (not part of the PEFT adapter). */
export type VariationalTrainingState = {
  /** AdamW (the plan's optimizer) on A, B; with compat.rhoSgdOnly false also on rho. */
  readonly optimizer: OptimizerState;
  /** The KL SGD (compat.rhoSgdOnly only; SGD has no buffers but keeps step counts). */
  readonly klOptimizer?: OptimizerState | null;
};

export abstract class VariationalLoraWrapper<O extends VariationalLoraOptions> extends FlipoutLoraWrapper<O> {
  private M = 0;

  constructor(run: RunContext, lora: LoraConfig, options: O, name: string, protected readonly family: PosteriorFamily) {
    super(run, lora, options, { name, eps: options.eps, noise: family.noise });
  }

  /** M of the plan, then the optimizers: the reference's AdamW + SGD(klLr) split, or one optimizer on NLL + pi KL. */
  protected override createTrainers(plan: TrainingPlan): Record<string, Trainer> {
    this.M = klCycleLength({
      datasetRescaling: this.options.datasetRescaling,
      numTrainExamples: plan.numTrainExamples,
      batchSize: plan.batchSize,
      gamma: this.options.gamma,
      stepsPerEpoch: plan.stepsPerEpoch,
      method: this.name,
    });
    const ab = this.meanVariables();
    const rhos = this.rhoVariables();
    if (this.options.compat.rhoSgdOnly) {
      // The reference: AdamW built before rho exists covers A, B; SGD(klLr, no momentum, no decay)
      // covers every parameter (B never gets a gradient there).
      const sched = { totalSteps: plan.totalSteps, warmupSteps: plan.warmupSteps };
      return {
        optimizer: this.planTrainer(plan, referenceParamGroups(ab, plan.weightDecay)),
        klOptimizer: { optimizer: new Sgd([...ab, ...rhos], { lr: this.options.klLr }), schedule: new LinearWarmupDecay(this.options.klLr, sched) },
      };
    }
    // One optimizer on NLL + pi KL; rho is a variance parameter, so it gets no weight decay.
    return { optimizer: this.planTrainer(plan, [...referenceParamGroups(ab, plan.weightDecay), { params: rhos, weightDecay: 0 }]) };
  }

  /** M of the current plan (0 before prepare). */
  get klCycle(): number {
    return this.M;
  }

  /** KL(q || p) of the whole adapter at the current parameters (a scalar the caller disposes). */
  kl(): tf.Scalar {
    return this.family.kl(
      [...this.layers.values()].map((l) => ({ mean: l.lora.A, sigma: l.sigma() })),
      this.options.beta,
    );
  }

  override trainStep(batch: TrainBatch, step: number): TrainStepResult {
    const objective = this.objective(batch);
    const { optimizer, schedule } = this.trainer('optimizer');
    const pi = klWeight(step + 1, this.M, this.options.klReweighting);
    const lr = schedule.lr(step);
    const ctx: ForwardContext = this.trainContext(step);
    this.setSampling(true);
    const ab = this.meanVariables();
    const rhos = this.rhoVariables();
    const kept: { nll?: tf.Scalar; kl?: tf.Scalar } = {};
    let acc = NaN;

    // nll of log_softmax(mean over trainSamples of sampled logits): [B, C] class logits, or
    // [B, T, V] of an answer batch scored at its answer tokens (the passes draw one after the
    // other from the step's stream).
    const nllOf = (): tf.Scalar => {
      const samples: tf.Tensor[] = [];
      for (let s = 0; s < this.options.trainSamples; s++) samples.push(objective.forward(ctx));
      const logits = samples.length === 1 ? samples[0] : tf.div(tf.addN(samples), samples.length);
      const rows = objective.scored(logits);
      // Read inside the tape: an answer batch's scored rows are freed with it.
      acc = classAccuracy(rows.logits, rows.labels);
      return this.dataLoss(rows.logits, rows.labels);
    };
    const kl = (): tf.Scalar => this.kl();
    const nonFinite = (term: 'nll' | 'kl', value: number, state: string): Error =>
      new NonFiniteLossError(step + 1, { [term]: value }, `${this.name}: ${state}`);

    try {
      let nll: number;
      let klValue: number;
      let klLr: number | undefined;
      if (this.options.compat.rhoSgdOnly) {
        const { optimizer: klOptimizer, schedule: klSchedule } = this.trainer('klOptimizer');
        klLr = klSchedule.lr(step);
        [nll, klValue] = tf.tidy(() => {
          // 1. NLL backward: gradients on A, B and rho.
          const { value: nllT, grads: nllGrads } = tf.variableGrads(nllOf, [...ab, ...rhos]);
          const n = nllT.dataSync()[0];
          if (!Number.isFinite(n)) throw nonFinite('nll', n, 'the adapter was not updated');
          // 2. AdamW on A, B (rho keeps its NLL gradient).
          optimizer.step(pick(nllGrads, ab), lr);
          // 3. KL backward at the updated A: pi dKL on A and rho.
          const { value: klT, grads: klGrads } = tf.variableGrads(kl, [...[...this.layers.values()].map((l) => l.lora.A), ...rhos]);
          const k = klT.dataSync()[0];
          if (!Number.isFinite(k)) throw nonFinite('kl', k, 'A and B had their AdamW update; rho and the KL step were not applied');
          // 4. SGD(klLr): rho <- rho - klLr (dNLL/drho + pi dKL/drho); A <- A - klLr pi dKL/dA.
          const sgdGrads: Record<string, tf.Tensor> = {};
          for (const [name, g] of Object.entries(klGrads)) {
            if (!g) continue;
            const scaled = tf.mul(g, pi);
            sgdGrads[name] = nllGrads[name] ? tf.add(nllGrads[name], scaled) : scaled;
          }
          klOptimizer.step(sgdGrads, klLr);
          tf.dispose([nllGrads, klGrads, sgdGrads]);
          return [n, k];
        });
      } else {
        [nll, klValue] = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => {
            const n = tf.keep(nllOf());
            const k = tf.keep(kl());
            kept.nll = n;
            kept.kl = k;
            return tf.add(n, tf.mul(k, pi)) as tf.Scalar;
          }, [...ab, ...rhos]);
          const n = kept.nll!.dataSync()[0];
          const k = kept.kl!.dataSync()[0];
          const loss = value.dataSync()[0];
          if (!Number.isFinite(n) || !Number.isFinite(k) || !Number.isFinite(loss)) {
            throw nonFinite(!Number.isFinite(n) ? 'nll' : 'kl', !Number.isFinite(n) ? n : k, 'the adapter was not updated');
          }
          optimizer.step(grads, lr);
          tf.dispose(grads);
          return [n, k];
        });
      }
      const weighted = pi * klValue;
      const result: Record<string, number> = {
        loss: nll + weighted,
        nll,
        kl: weighted,
        elbo: nll + klValue,
        pi,
        lr,
        acc,
      };
      if (klLr !== undefined) result.klLr = klLr;
      return result as TrainStepResult;
    } finally {
      tf.dispose([kept.nll, kept.kl].filter((t): t is tf.Scalar => !!t));
    }
  }

  /**
   * Loads A, B and rho. An adapter without rho (MLE/MAP, or trained elsewhere) keeps this run's
   * initial rho, as the reference's non-strict load does; one whose sigma parameterisation
   * (sign of eps) differs is refused, since its rho would mean another sigma.
   */
  protected override restore(files: PeftAdapterFiles, dir: string): void {
    const savedEps = (files.meta.options as { eps?: unknown } | undefined)?.eps;
    if (typeof savedEps === 'number' && savedEps >= 0 !== this.options.eps >= 0) {
      throw new Error(
        `${dir}: the adapter was trained with eps ${savedEps} (sigma = ${savedEps >= 0 ? 'rho^2' : 'softplus(rho)'}), this run uses eps ${this.options.eps}; ` +
          `set ${this.name}.eps to a value of the same sign`,
      );
    }
    let missingRho = 0;
    const values = [...this.layers].map(([site, layer]) => {
      const shape = layer.lora.A.shape;
      const a = takeTensor(files, site, 'lora_A', shape);
      const b = takeTensor(files, site, 'lora_B', layer.lora.B.shape);
      let rho = null;
      try {
        rho = takeTensor(files, site, 'lora_A_rho', shape);
      } catch (e) {
        if (!/is missing/.test((e as Error).message)) throw e;
        missingRho++;
      }
      return { layer, a, b, rho };
    });
    tf.tidy(() => {
      for (const { layer, a, b, rho } of values) {
        layer.lora.A.assign(tf.tensor2d(a.data as Float32Array, layer.lora.A.shape as [number, number]));
        layer.lora.B.assign(tf.tensor2d(b.data as Float32Array, layer.lora.B.shape as [number, number]));
        if (rho) layer.rho.assign(tf.tensor2d(rho.data as Float32Array, layer.rho.shape as [number, number]));
      }
    });
    if (missingRho > 0) {
      this.run.log.warn(`${this.name}: ${dir} has no lora_A_rho for ${missingRho} of ${values.length} layers; they keep their initial rho (sigma ~ eps^2)`);
    }
  }
}

function pick(grads: tf.NamedTensorMap, vars: readonly tf.Variable[]): tf.NamedTensorMap {
  const out: tf.NamedTensorMap = {};
  for (const v of vars) if (grads[v.name]) out[v.name] = grads[v.name];
  return out;
}
