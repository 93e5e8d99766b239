import { tf } from '@bayes-peft/tensor';
import {
  Rng,
  sampledForwardByPasses,
  sampledGenerateBySequences,
  type Adapter,
  type Backbone,
  type BackboneConfig,
  type EncodedBatch,
  type ForwardContext,
  type ForwardOptions,
  type GenerateOptions,
  type GenerationResult,
  type LinearSite,
  type SampledForwardOptions,
  type SampledGenerateOptions,
  type SiteKind,
  type TokenBatch,
} from '@bayes-peft/core';
import { ToyTokenizer } from './toy-tokenizer';

export interface ToyBackboneOptions {
  readonly vocabSize?: number;
  readonly hiddenSize?: number;
  readonly numLayers?: number;
  /** Seeds the frozen weights. */
  readonly seed?: number;
  /** Std of the frozen weights' normal init (embedding uses 1). */
  readonly initStd?: number;
}

/** One frozen linear layer y = x W^T (+ adapter delta). */
export class ToySite implements LinearSite {
  adapter: Adapter | null = null;
  constructor(
    readonly name: string,
    readonly kind: SiteKind,
    readonly layerIndex: number | null,
    readonly weight: tf.Tensor2D,
  ) {}

  get inFeatures(): number {
    return this.weight.shape[1];
  }

  get outFeatures(): number {
    return this.weight.shape[0];
  }

  apply(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const y = linear(x, this.weight);
    return this.adapter ? tf.add(y, this.adapter.delta(x, ctx)) : y;
  }
}

/**
 * A tiny seeded decoder behind the Backbone contract, for tests of wrappers and runners:
 *
 *   h = embed(ids)
 *   per layer l: q = q_proj(h), v = v_proj(h), k = h K_l (frozen, no site),
 *                h = h + causal-softmax(q k^T / sqrt(H), key padding masked) v
 *   logits = lm_head(h)          (only the last position when output = 'last')
 *
 * Sites are `model.layers.<l>.self_attn.q_proj`, `...v_proj` and `lm_head`, the names a Llama
 * has, so wrappers and the PEFT layout see realistic keys. No KV cache: `generate` re-runs the
 * whole prefix each step (so adapters are called once per decoding step, as with a real cache).
 */
export class ToyBackbone implements Backbone {
  readonly id: string;
  readonly config: BackboneConfig;
  readonly tokenizer: ToyTokenizer;
  /** Counts forward calls (generation steps included), for tests. */
  forwardCalls = 0;
  private readonly embed: tf.Tensor2D;
  private readonly keys: tf.Tensor2D[];
  private readonly layerSites: { q: ToySite; v: ToySite }[];
  private readonly lmHead: ToySite;
  private readonly all: ToySite[];

  constructor(options: ToyBackboneOptions = {}) {
    const V = options.vocabSize ?? 32;
    const H = options.hiddenSize ?? 16;
    const L = options.numLayers ?? 2;
    const seed = options.seed ?? 0;
    const std = options.initStd ?? 1 / Math.sqrt(H);
    this.id = `toy-backbone(seed=${seed},V=${V},H=${H},L=${L})`;
    this.tokenizer = new ToyTokenizer(V);
    this.config = {
      modelType: 'toy',
      hiddenSize: H,
      numLayers: L,
      numHeads: 1,
      numKeyValueHeads: 1,
      headDim: H,
      intermediateSize: H,
      vocabSize: V,
      maxPositionEmbeddings: 4096,
      tieWordEmbeddings: false,
    };
    const rng = new Rng(seed, 'toy-backbone');
    const normal = (rows: number, cols: number, s: number, label: string): tf.Tensor2D => {
      const r = rng.child(label);
      const a = new Float32Array(rows * cols);
      for (let i = 0; i < a.length; i++) a[i] = r.normal() * s;
      return tf.tensor2d(a, [rows, cols]);
    };
    this.embed = normal(V, H, 1, 'embed');
    this.keys = [];
    this.layerSites = [];
    for (let l = 0; l < L; l++) {
      this.keys.push(normal(H, H, std, `layers.${l}.k`));
      this.layerSites.push({
        q: new ToySite(`model.layers.${l}.self_attn.q_proj`, 'q_proj', l, normal(H, H, std, `layers.${l}.q`)),
        v: new ToySite(`model.layers.${l}.self_attn.v_proj`, 'v_proj', l, normal(H, H, std, `layers.${l}.v`)),
      });
    }
    this.lmHead = new ToySite('lm_head', 'lm_head', null, normal(V, H, std, 'lm_head'));
    this.all = [...this.layerSites.flatMap((s) => [s.q, s.v]), this.lmHead];
  }

  sites(): readonly LinearSite[] {
    return this.all;
  }

  encode(texts: readonly string[], options: { maxLength?: number; addSpecialTokens?: boolean } = {}): EncodedBatch {
    const seqs = texts.map((t) => {
      const ids = this.tokenizer.encode(t, { addSpecialTokens: options.addSpecialTokens ?? true });
      return options.maxLength !== undefined && ids.length > options.maxLength ? ids.slice(ids.length - options.maxLength) : ids;
    });
    return leftPad(seqs, this.tokenizer.padTokenId);
  }

  toTensors(batch: EncodedBatch): TokenBatch {
    return {
      inputIds: tf.tensor2d(batch.ids.flat(), [batch.ids.length, batch.ids[0]?.length ?? 0], 'int32'),
      attentionMask: tf.tensor2d(batch.mask.flat(), [batch.mask.length, batch.mask[0]?.length ?? 0], 'int32'),
    };
  }

  forward(batch: TokenBatch, options: ForwardOptions): tf.Tensor {
    this.forwardCalls++;
    return tf.tidy(() => {
      const [B, T] = batch.inputIds.shape;
      const H = this.config.hiddenSize;
      let h: tf.Tensor = tf.gather(this.embed, tf.reshape(batch.inputIds, [-1]));
      h = tf.reshape(h, [B, T, H]);
      // additive mask [B, T, T]: causal and key padding
      const causal = tf.linalg.bandPart(tf.ones([T, T]), -1, 0);
      const keyMask = tf.reshape(tf.cast(batch.attentionMask, 'float32'), [B, 1, T]);
      const allowed = tf.mul(tf.reshape(causal, [1, T, T]), keyMask);
      const bias = tf.mul(tf.sub(1, allowed), -1e9);
      for (let l = 0; l < this.layerSites.length; l++) {
        const { q: qSite, v: vSite } = this.layerSites[l];
        const q = qSite.apply(h, options.ctx);
        const v = vSite.apply(h, options.ctx);
        const k = linear(h, this.keys[l]);
        const scores = tf.add(tf.div(tf.matMul(q, k, false, true), Math.sqrt(H)), bias);
        h = tf.add(h, tf.matMul(tf.softmax(scores), v));
      }
      if (options.output === 'last') {
        const last = tf.reshape(tf.slice(h, [0, T - 1, 0], [B, 1, H]), [B, H]);
        const logits = this.lmHead.apply(last, options.ctx);
        return options.columns ? tf.gather(logits, tf.tensor1d([...options.columns], 'int32'), 1) : logits;
      }
      if (options.columns) throw new Error('ToyBackbone.forward: columns is only valid with output "last"');
      return this.lmHead.apply(h, options.ctx);
    });
  }

  async generate(batch: EncodedBatch, options: GenerateOptions): Promise<GenerationResult[]> {
    const eos = options.eosTokenId === undefined ? this.tokenizer.eosTokenId : options.eosTokenId;
    const prompts = batch.ids.map((row, b) => row.filter((_, t) => batch.mask[b][t] === 1));
    const seqs = prompts.map((p) => p.slice());
    const newIds: number[][] = prompts.map(() => []);
    const nll = prompts.map(() => 0);
    const done = prompts.map(() => false);
    for (let step = 0; step < options.maxNewTokens && done.some((d) => !d); step++) {
      const enc = leftPad(seqs, this.tokenizer.padTokenId);
      const tb = this.toTensors(enc);
      const logp = tf.tidy(() => tf.logSoftmax(this.forward(tb, { output: 'last', ctx: options.ctx })));
      const rows = (await logp.array()) as number[][];
      tf.dispose([logp, tb.inputIds, tb.attentionMask]);
      rows.forEach((lp, b) => {
        if (done[b]) return;
        const tok = options.temperature <= 0 ? argmax(lp) : sampleTopP(lp, options.temperature, options.topP, options.ctx.rng);
        nll[b] -= lp[tok];
        seqs[b].push(tok);
        newIds[b].push(tok);
        if (eos !== null && tok === eos) done[b] = true;
      });
    }
    return seqs.map((ids, b) => ({
      ids,
      newIds: newIds[b],
      text: this.tokenizer.decode(newIds[b], { skipSpecialTokens: true }),
      nll: nll[b],
      finishedWithEos: done[b],
    }));
  }

  /** TensorFlow.js only: one forward per weight sample. */
  sampledForward(batch: TokenBatch, options: SampledForwardOptions): Promise<tf.Tensor3D> {
    return sampledForwardByPasses(this, batch, options);
  }

  /** TensorFlow.js only: one generation per weight sample. */
  sampledGenerate(batch: EncodedBatch, options: SampledGenerateOptions): Promise<GenerationResult[][]> {
    return sampledGenerateBySequences(this, batch, options);
  }

  dispose(): void {
    tf.dispose([this.embed, ...this.keys, ...this.all.map((s) => s.weight)]);
    for (const s of this.all) s.adapter = null;
  }
}

/** x [..., in] times W^T for W [out, in]. */
function linear(x: tf.Tensor, W: tf.Tensor2D): tf.Tensor {
  const inF = x.shape[x.shape.length - 1];
  const lead = x.shape.slice(0, -1);
  return tf.reshape(tf.matMul(tf.reshape(x, [-1, inF]), W, false, true), [...lead, W.shape[0]]);
}

function leftPad(seqs: readonly number[][], pad: number): EncodedBatch {
  const T = Math.max(1, ...seqs.map((s) => s.length));
  return {
    ids: seqs.map((s) => [...new Array<number>(T - s.length).fill(pad), ...s]),
    mask: seqs.map((s) => [...new Array<number>(T - s.length).fill(0), ...new Array<number>(s.length).fill(1)]),
  };
}

function argmax(xs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

function sampleTopP(logp: readonly number[], temperature: number, topP: number, rng: Rng): number {
  const scaled = logp.map((l) => l / temperature);
  const max = Math.max(...scaled);
  const p = scaled.map((l) => Math.exp(l - max));
  const z = p.reduce((a, b) => a + b, 0);
  const order = p.map((v, i) => [v / z, i] as const).sort((a, b) => b[0] - a[0]);
  const kept: (readonly [number, number])[] = [];
  let cum = 0;
  for (const e of order) {
    kept.push(e);
    cum += e[0];
    if (cum >= topP) break;
  }
  let u = rng.next() * kept.reduce((a, e) => a + e[0], 0);
  for (const [pr, i] of kept) {
    u -= pr;
    if (u <= 0) return i;
  }
  return kept[kept.length - 1][1];
}
