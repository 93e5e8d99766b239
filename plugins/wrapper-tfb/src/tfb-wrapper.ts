import * as path from 'node:path';
import { tf } from '@bayes-peft/tensor';
import {
  UserError,
  type AnchorBatches,
  type CalibrationContext,
  type CalibrationEntry,
  type CalibrationResult,
  type ForwardContext,
  type LoraConfig,
  type RunContext,
  type TrainBatch,
  type TrainingPlan,
  type TrainStepResult,
} from '@bayes-peft/core';
import { FlipoutLoraWrapper, gaussianNoise, rhoOf, type FlipoutAdapter } from '@bayes-peft/bayes-lora';
import { takeTensor } from '@bayes-peft/lora';
import { anchorCriterion, answerPass, type AnchorPass } from './anchor-pass';
import { searchBeta, type BetaSearchStep } from './beta-search';
import type { TfbOptions } from './options';
import { reparameterise, rowSigmas } from './tfb-math';

/** TFB stores sigma as rho^2 (BLoB's eps >= 0 parameterisation). */
const EPS = 0;
/** tfblora_acc's early stop: the search interval is narrower than this. */
const ACCURACY_MIN_WIDTH = 5e-4;

/**
 * TFB, Training-Free Bayesianization (docs/methods.md, 'TFB'): takes a trained adapter in the
 * PEFT layout, rewrites each layer through the SVD of B (B' = B V, A' = V^T A, product
 * unchanged), gives each row i of A' the posterior std sigma_i = beta / max(d_i, floor), and
 * samples like BLoB (flipout). beta is searched on the anchor set (`calibrate`, called by the
 * runner before the final evaluation) as the largest value whose anchor criterion (NLL change
 * or changed predictions against the posterior mean) stays within the tolerance. It never
 * trains. The maths is in tfb-math.ts, the search in beta-search.ts.
 */
export class TfbWrapper extends FlipoutLoraWrapper<TfbOptions> {
  readonly trainingFree = true;
  /** Singular values of each layer's B, from the last reparameterisation. */
  private readonly singular = new Map<string, Float64Array>();
  /** Where the Bayesianized adapter came from: a folder, 'memory', or null (not yet). */
  private source: string | null = null;
  private currentBeta: number;

  constructor(run: RunContext, lora: LoraConfig, options: TfbOptions) {
    super(run, lora, options, { name: 'tfb', eps: EPS, noise: gaussianNoise });
    this.currentBeta = options.beta;
  }

  /** The beta in use: the option until calibration, then the one found. */
  get beta(): number {
    return this.currentBeta;
  }

  /** Where the Bayesianized adapter came from: its folder, 'memory' (bayesianizeInstalled), or null. */
  get adapterSource(): string | null {
    return this.source;
  }

  /** Singular values of B per layer (after load). */
  singularValues(): ReadonlyMap<string, Float64Array> {
    return this.singular;
  }

  override prepare(_plan: TrainingPlan): void {
    this.run.log.warn('tfb is training-free: prepare() does nothing (the runner skips training for it)');
  }

  override trainStep(_batch: TrainBatch, _step: number): TrainStepResult {
    throw new Error('tfb is training-free: it Bayesianizes a trained adapter and never trains (set train.steps: 0)');
  }

  /**
   * Loads A and B of a trained adapter (mle, map, blob, or Python PEFT; BLoB's rho is ignored),
   * reparameterises every layer by the SVD of B, and sets sigma for the current beta. An adapter
   * saved by tfb is already reparameterised: its A', B' and singular values are restored as
   * they are, so a save/load round trip is exact.
   */
  override async load(dir: string): Promise<void> {
    this.requireBackbone('load');
    const files = await this.readAdapter(dir);
    const saved = files.meta.wrapper === 'tfb' ? (files.meta.singularValues as Record<string, number[]> | undefined) : undefined;
    const layers = [...this.layers].map(([site, layer]) => ({
      site,
      layer,
      a: takeTensor(files, site, 'lora_A', layer.lora.A.shape).data,
      b: takeTensor(files, site, 'lora_B', layer.lora.B.shape).data,
      d: saved?.[site],
    }));
    this.bayesianize(layers);
    this.source = dir;
    const from = typeof files.meta.wrapper === 'string' ? ` (a ${files.meta.wrapper} adapter)` : '';
    this.run.log.info(`  tfb: loaded ${dir}${from}; B = U diag(d) V^T per layer, largest d ${fmt(this.largestSingularValue())}`);
  }

  /**
   * Bayesianizes the adapter the layers hold now (when no adapter folder was given, e.g. a
   * wrapper whose variables were set in memory). A zero adapter (B = 0: nothing was loaded or
   * trained) has nothing to Bayesianize and is refused.
   */
  bayesianizeInstalled(): void {
    this.requireBackbone('bayesianizeInstalled');
    this.bayesianize(
      [...this.layers].map(([site, layer]) => ({ site, layer, a: layer.lora.A.dataSync(), b: layer.lora.B.dataSync() })),
    );
    if (this.largestSingularValue() === 0) {
      throw new UserError("tfb needs a trained adapter: set the run spec's top-level adapter: (or the tfb option adapter) to a PEFT adapter folder; the installed adapter is zero (B = 0)");
    }
    this.source = 'memory';
  }

  /** B' = B V, A' = V^T A per layer (or a tfb adapter's own A', B', d), then sigma for the current beta. */
  private bayesianize(layers: { site: string; layer: FlipoutAdapter; a: ArrayLike<number>; b: ArrayLike<number>; d?: number[] }[]): void {
    for (const { site, layer, a, b, d } of layers) {
      const [r, inF] = layer.lora.A.shape;
      const outF = layer.lora.B.shape[0];
      const re = d && d.length === r ? { A: Float32Array.from(a), B: Float32Array.from(b), d: Float64Array.from(d) } : reparameterise(a, b, r, inF, outF);
      tf.tidy(() => {
        layer.lora.A.assign(tf.tensor2d(re.A, [r, inF]));
        layer.lora.B.assign(tf.tensor2d(re.B, [outF, r]));
      });
      this.singular.set(site, re.d);
    }
    this.setBeta(this.currentBeta);
  }

  private largestSingularValue(): number {
    return Math.max(0, ...[...this.singular.values()].map((d) => d[0] ?? 0));
  }

  /** Sets sigma_i = beta / max(d_i, floor) on every layer (see tfb-math.ts). */
  setBeta(beta: number): void {
    this.currentBeta = beta;
    const rule = { singularValueFloor: this.options.singularValueFloor, sigmaEpsilon: this.options.compat.sigmaEpsilon };
    tf.tidy(() => {
      for (const [site, layer] of this.layers) {
        const [r, inF] = layer.rho.shape;
        const d = this.singular.get(site) ?? new Float64Array(r); // before load: B = 0, sigma = 0
        const sig = rowSigmas(d, beta, rule);
        const rho = new Float32Array(r * inF);
        for (let i = 0; i < r; i++) rho.fill(rhoOf(sig[i], EPS), i * inF, (i + 1) * inF);
        layer.rho.assign(tf.tensor2d(rho, [r, inF]));
      }
    });
  }

  /**
   * Searches beta on the anchor set and keeps the one found (or sets `beta` when iterations is
   * 0). Loads the `adapter` option first if the run spec's `adapter:` did not load one; with
   * neither, Bayesianizes the installed adapter (refused if it is zero).
   */
  async calibrate(anchor: AnchorBatches, ctx: CalibrationContext): Promise<CalibrationResult> {
    if (!this.source) {
      if (this.options.adapter) await this.load(path.resolve(this.run.specDir, this.options.adapter));
      else this.bayesianizeInstalled();
    } else if (this.options.adapter && path.resolve(this.run.specDir, this.options.adapter) !== this.source) {
      this.run.log.warn(`tfb: the option adapter ${this.options.adapter} is ignored; the adapter from ${this.source} is in use`);
    }
    const { options } = this;
    const summary = (beta: number, extra: CalibrationEntry = {}): CalibrationEntry => ({
      beta,
      criterion: options.criterion,
      tolerance: options.tolerance,
      anchorExamples: ctx.numExamples,
      ...extra,
    });
    if (options.iterations === 0) {
      this.setBeta(options.beta);
      this.run.log.info(`  tfb: beta ${fmt(options.beta)} (iterations 0: no search)`);
      return { log: [], summary: summary(options.beta, { iterations: 0 }) };
    }
    if (ctx.numExamples === 0) throw new UserError("tfb: the dataset's anchor split is empty; the search for beta needs anchor examples (or set iterations: 0)");
    const reference = await this.anchorPass(anchor, 0, 1);
    const divideBy = options.compat.divideByAnchorCount ? reference.examples : 1;
    const criterion = async (beta: number): Promise<number> => anchorCriterion(options.criterion, reference, await this.anchorPass(anchor, beta, options.trainSamples), divideBy);
    const name = `${options.criterion === 'nll' ? 'relative NLL change' : 'changed predictions'}${reference.kind === 'answer' ? ' on answer tokens' : ''}`;
    this.run.log.info(`  tfb: searching beta in [${fmt(options.low)}, ${fmt(options.beta)}] on ${reference.examples} anchor examples (${name} <= ${options.tolerance})`);
    const result = await searchBeta(
      {
        low: options.low,
        high: options.beta,
        iterations: options.iterations,
        tolerance: options.tolerance,
        minWidth: options.criterion === 'accuracy' ? ACCURACY_MIN_WIDTH : 0,
        lastViolating: options.compat.lastViolating,
      },
      criterion,
      (s: BetaSearchStep) =>
        this.run.log.info(`  tfb: step ${s.iteration + 1}: beta ${fmt(s.beta)} -> ${name} ${fmt(s.value)} ${s.accepted ? 'accepted' : 'rejected'}`),
    );
    if (!result.acceptedAny && !options.compat.lastViolating) {
      this.run.log.warn(`tfb: no beta in (${fmt(options.low)}, ${fmt(options.beta)}) met the tolerance ${options.tolerance}; using the lower bound ${fmt(result.beta)} (untested)`);
    }
    this.setBeta(result.beta);
    this.run.log.info(`  tfb: beta = ${fmt(result.beta)}`);
    const log = result.steps.map((s) => ({ iteration: s.iteration, beta: s.beta, value: s.value, accepted: s.accepted, low: s.low, high: s.high }));
    return { log, summary: summary(result.beta, { iterations: result.steps.length, acceptedAny: result.acceptedAny }) };
  }

  /**
   * The anchor criterion at one beta, as the search computes it (reference pass at beta = 0,
   * then `trainSamples` sampled passes); restores the current beta. For inspection and tests.
   */
  async criterionAt(anchor: AnchorBatches, beta: number): Promise<number> {
    const keep = this.currentBeta;
    try {
      const reference = await this.anchorPass(anchor, 0, 1);
      const sampled = await this.anchorPass(anchor, beta, this.options.trainSamples);
      return anchorCriterion(this.options.criterion, reference, sampled, this.options.compat.divideByAnchorCount ? reference.examples : 1);
    } finally {
      this.setBeta(keep);
    }
  }

  /** beta and the singular values, so a tfb adapter loads back exactly (see load). */
  protected override metadata(): Record<string, unknown> {
    return { beta: this.currentBeta, source: this.source, singularValues: Object.fromEntries([...this.singular].map(([site, d]) => [site, Array.from(d)])) };
  }

  /**
   * One pass over the anchor set at `beta` (0: one pass at the posterior mean, the trained
   * adapter), `samples` weight samples averaged: the class probabilities of every
   * multiple-choice example, or for an open-ended anchor set the probability of every answer
   * token's true next token and the argmax (anchor-pass.ts). The k-th batch draws its noise from
   * the same stream at every beta (common random numbers), so the criterion is a smooth,
   * repeatable function of beta and the bisection compares like with like.
   */
  private async anchorPass(anchor: AnchorBatches, beta: number, samples: number): Promise<AnchorPass> {
    const backbone = this.requireBackbone('calibrate');
    const sampling = beta > 0;
    const passes = sampling ? samples : 1;
    this.setBeta(beta);
    this.setSampling(sampling);
    const probs: number[][] = [];
    const targetProbs: number[] = [];
    const argmaxes: number[] = [];
    let examples = 0;
    let kind: AnchorPass['kind'] | null = null;
    try {
      let k = 0;
      for await (const batch of anchor()) {
        const batchKind = batch.kind ?? 'mcq';
        if (kind && kind !== batchKind) throw new Error(`tfb: the anchor set mixes ${kind} and ${batchKind} batches`);
        kind = batchKind;
        examples += batch.ids.length;
        // The S passes of a batch draw one after the other from its stream.
        const ctx: ForwardContext = { training: false, rng: this.rng.child(`calibrate/${k++}`) };
        if (batch.kind === 'answer') {
          const stats = await answerPass(backbone, batch, passes, () => ctx);
          targetProbs.push(...stats.targetProbs);
          argmaxes.push(...stats.argmax);
          continue;
        }
        // [B, S, C] through the backbone's sampled forward (the run's evaluation engine).
        const logits = await backbone.sampledForward(batch.tokens, { samples: passes, columns: batch.targetIds, sampleContext: () => ctx });
        const mean = tf.tidy(() => tf.mean(tf.softmax(logits), 1));
        logits.dispose();
        const rows = (await mean.array()) as number[][];
        mean.dispose();
        probs.push(...rows);
      }
    } finally {
      this.setSampling(true);
    }
    return kind === 'answer' ? { kind, examples, targetProbs, argmax: argmaxes } : { kind: 'mcq', examples, probs };
  }
}

function fmt(x: number): string {
  return Number.isFinite(x) ? Number(x.toPrecision(4)).toString() : String(x);
}
