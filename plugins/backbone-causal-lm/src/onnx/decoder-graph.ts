/**
 * The decoder as an ONNX graph that computes S weight samples of a forward in one run.
 *
 * Every value carries a leading sample axis P: 1 while it is the same for all samples (the
 * embedding, the first layer's input and its frozen projections), S once an adapter's sampled
 * delta has been added. Broadcasting does the rest, so the frozen work upstream of the first
 * adapter is done once per batch instead of once per sample, and every later product runs on
 * S x B rows at once. The maths is `CausalLm.forward`'s, op for op: same RMSNorm, RoPE with the
 * queries pre-scaled, grouped-query attention over an additive bias, SiLU MLP, the last layer
 * for the last position only, and only the answer columns of the frozen head.
 *
 * The frozen weights are graph inputs, not initializers: each run reads them where
 * TensorFlow.js keeps them (no second copy of the model in memory, nothing to re-export after
 * loading), in their stored layout (Gemm's transB reads W [out, in] as it is).
 */
import { tf, type HostMatrix } from '@bayes-peft/tensor';
import { isOnnxAdapter, type OnnxDim, type OnnxSiteInfo, GraphBuilder, ONNX_TYPE } from '@bayes-peft/onnx';
import type { CausalLmConfig } from '../config';
import type { DecoderLayer } from '../layer';
import type { Frozen, Linear } from '../linear';
import type { ModelWeights } from '../weights';

/**
 * What the graph returns: logits of some vocabulary columns at the last position ('columns'),
 * every position's full logits ('all'), or one step of incremental decoding ('decode': the last
 * position's full logits, their log-sum-exp, and every layer's keys and values of the new
 * positions, attending over a cache given as input).
 */
export type DecoderGraphOutput = 'columns' | 'all' | 'decode';

/**
 * An adapter site of the graph, in forward call order. The graph is kept for as long as the
 * sites carry adapters of the same signatures, possibly other instances (a new wrapper of the
 * same method): a run reads its inputs from the adapter on `linear` at that time.
 */
export interface GraphSite {
  readonly linear: Linear;
  readonly info: OnnxSiteInfo;
  /** Rank of the adapter's input without the sample and feature axes ([B, T] = 2, [B] = 1). */
  readonly leadRank: number;
}

/** What a weight input is fed from: a device tensor (read in place) or a host matrix in its stored dtype. */
export type WeightSource = tf.Tensor | HostMatrix;

export interface DecoderGraph {
  readonly bytes: Uint8Array;
  /** Graph input name -> the weight fed to it. */
  readonly weights: ReadonlyMap<string, WeightSource>;
  readonly sites: readonly GraphSite[];
  readonly output: DecoderGraphOutput;
  readonly nodeCount: number;
}

const INT64_MAX = Number.MAX_SAFE_INTEGER;
type Dim = number | 'B' | 'T' | 'C';

/** The symbolic sample axis: one graph serves any number of samples per run (one session, one memory arena). */
export const SAMPLES_DIM = 'samples';

export function buildDecoderGraph(config: CausalLmConfig, weights: ModelWeights, output: DecoderGraphOutput): DecoderGraph {
  const c = config;
  const samples = SAMPLES_DIM;
  const g = new GraphBuilder(`${c.modelType}-decoder-${output}`);
  const weightInputs = new Map<string, WeightSource>();
  const bySource = new Map<WeightSource, string>();
  const sites: GraphSite[] = [];

  /** A weight as a graph input in the dtype it is kept in (a tied matrix is one input). */
  const weight = (name: string, src: WeightSource): string => {
    const known = bySource.get(src);
    if (known) return known;
    const input =
      src instanceof tf.Tensor
        ? g.input(`w:${name}`, src.shape)
        : g.input(`w:${name}`, [src.rows, src.cols], src.dtype === 'F32' ? 'float32' : src.dtype === 'F16' ? 'float16' : 'uint16');
    weightInputs.set(input, src);
    bySource.set(src, input);
    return input;
  };
  const source = (f: Frozen): WeightSource => (f.place === 'device' ? f.tensor : f.matrix);
  /**
   * A frozen matrix's values (or rows of it, `raw` being a Gather of its input) as float32.
   * bfloat16 arrives as its raw bits (uint16: onnxruntime's JavaScript API has no bfloat16
   * tensors), is reinterpreted by BitCast and widened exactly by Cast; float16 by a Cast. Per
   * run, only what a product or a gather reads is widened.
   */
  const asFloat = (raw: string, f: Frozen): string => {
    if (f.place === 'device' || f.matrix.dtype === 'F32') return raw;
    const half = f.matrix.dtype === 'F16' ? raw : g.op('BitCast', [raw], { to: ONNX_TYPE.bfloat16 });
    return g.op('Cast', [half], { to: ONNX_TYPE.float32 });
  };
  /**
   * A whole frozen matrix as float32 for a product with `x`. A widened matrix is made in the
   * run, and onnxruntime may run a node as soon as its inputs exist: these depend on graph
   * inputs only, so every layer's would be widened at the start and held at once (4.9 GB for a
   * 1B model). Reshaping the raw input to a shape computed from x (its values constant, x's
   * shape times 0 plus [rows, cols]; a Reshape costs no copy) makes each wait for its layer's
   * input, so about one layer's widened matrices exist at a time.
   */
  const frozenValue = (name: string, f: Frozen, x: string): string => {
    const raw = weight(name, source(f));
    if (f.place === 'device' || f.matrix.dtype === 'F32') return raw;
    const zero = g.op('Mul', [g.op('Slice', [g.op('Shape', [x]), g.int64([-1]), g.int64([INT64_MAX])]), g.int64([0])]);
    const dims = g.op('Add', [zero, g.int64([f.matrix.rows, f.matrix.cols])]);
    return asFloat(g.op('Reshape', [raw, dims]), f);
  };


  const decode = output === 'decode';
  // Decoding carries one sequence per sample (they diverge after the first sampled token): ids
  // [samples, B, T]; the forwards share the prompt: ids [B, T].
  const ids = decode ? g.input('input_ids', [samples, 'batch', 'seq'], 'int32') : g.input('input_ids', ['batch', 'seq'], 'int32');
  const cos = g.input('cos', ['batch', 'seq', 1, c.headDim]);
  const sin = g.input('sin', ['batch', 'seq', 1, c.headDim]);
  // Additive attention bias of the new positions over every key (cached ones first when decoding).
  const bias = g.input('bias', ['batch', 1, 1, 'seq', decode ? 'total' : 'seq']);
  const columns = output === 'columns' ? g.input('columns', ['columns'], 'int32') : null;
  // Its length is the run's sample count (values unused): the output is expanded to it even
  // when no adapter varies by sample.
  const sampleAxis = g.input('sample_axis', [samples]);

  // [B] and [T] as int64 1-D values, for the shapes of reshapes.
  const idsShape = g.op('Shape', [ids]);
  const first = decode ? 1 : 0;
  const dimB = g.op('Slice', [idsShape, g.int64([first]), g.int64([first + 1])]);
  const dimT = g.op('Slice', [idsShape, g.int64([first + 1]), g.int64([first + 2])]);
  const dimC = columns ? g.op('Shape', [columns]) : null;
  const shapes = new Map<string, string>();
  const shape = (dims: readonly Dim[]): string => {
    const key = dims.join(',');
    let v = shapes.get(key);
    if (!v) {
      v = g.op('Concat', dims.map((d) => (d === 'B' ? dimB : d === 'T' ? dimT : d === 'C' ? dimC! : g.int64([d]))), { axis: 0 });
      shapes.set(key, v);
    }
    return v;
  };
  /** A lead axis as the graph's inputs name it. */
  const symbolic = (d: Dim): OnnxDim => (d === 'B' ? 'batch' : d === 'T' ? 'seq' : d === 'C' ? 'columns' : d);
  /** The last position along `axis`. */
  const last = (x: string, axis: number): string => g.op('Slice', [x, g.int64([-1]), g.int64([INT64_MAX]), g.int64([axis])]);

  const rmsNorm = (x: string, w: string): string => {
    const variance = g.op('ReduceMean', [g.op('Mul', [x, x]), g.int64([-1])], { keepdims: 1 });
    const inv = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [variance, g.constant(new Float32Array([c.rmsNormEps]), [])])])]);
    return g.op('Mul', [w, g.op('Mul', [x, inv])]);
  };

  /** y = x W^T (+ b) (+ adapter delta) for x [P, ...lead, in]; lead is [B, T] or [B]. */
  const linear = (x: string, site: Linear, lead: readonly Dim[]): string => {
    const flat = g.op('Reshape', [x, g.int64([-1, site.inFeatures])]);
    const inputs = [flat, frozenValue(site.name, site.frozen, x)];
    if (site.bias) inputs.push(weight(`${site.name}.bias`, site.bias));
    const product = g.op('Gemm', inputs, { transB: site.layout === 'weight' ? 1 : 0 });
    const y = g.op('Reshape', [product, shape([-1, ...lead, site.outFeatures])]);
    if (!site.adapter) return y;
    if (!isOnnxAdapter(site.adapter)) throw new Error(`${site.name}: its adapter has no ONNX export`);
    const info: OnnxSiteInfo = { site, prefix: `a:${site.name}:`, samples, rank: lead.length + 2, leadDims: lead.map(symbolic) };
    sites.push({ linear: site, info, leadRank: lead.length });
    return g.op('Add', [y, site.adapter.emitOnnx(g, x, info)]);
  };

  // x [P, B, T, heads, D]; cos, sin [B, T, 1, D] (sin signed): x cos + cat(x2, x1) sin.
  const half = c.headDim / 2;
  const rope = (x: string, cosV: string, sinV: string): string => {
    const x1 = g.op('Slice', [x, g.int64([0]), g.int64([half]), g.int64([-1])]);
    const x2 = g.op('Slice', [x, g.int64([half]), g.int64([c.headDim]), g.int64([-1])]);
    const swapped = g.op('Concat', [x2, x1], { axis: -1 });
    return g.op('Add', [g.op('Mul', [x, cosV]), g.op('Mul', [swapped, sinV])]);
  };
  const scale = g.constant(new Float32Array([1 / Math.sqrt(c.headDim)]), []);
  const qCos = g.op('Mul', [cos, scale]);
  const qSin = g.op('Mul', [sin, scale]);

  const kvHeads = c.numKeyValueHeads;
  const group = c.numHeads / kvHeads;
  const decoderLayer = (h: string, layer: DecoderLayer, lastOnly: boolean): string => {
    const p = layer.parts;
    const x = rmsNorm(h, weight(`model.layers.${p.index}.input_layernorm.weight`, p.inputNorm));
    // q, k, v in this order: adapters draw their random numbers in call order.
    const q = linear(x, p.q, ['B', 'T']);
    const k = linear(x, p.k, ['B', 'T']);
    const v = linear(x, p.v, ['B', 'T']);
    const mlpLast = lastOnly && !p.gate.adapter && !p.up.adapter && !p.down.adapter;
    const attnLast = mlpLast && !p.o.adapter;
    const tq: Dim = attnLast ? 1 : 'T';

    let qh = g.op('Reshape', [q, shape([-1, 'B', 'T', c.numHeads, c.headDim])]);
    qh = attnLast ? rope(last(qh, 2), last(qCos, 1), last(qSin, 1)) : rope(qh, qCos, qSin);
    // [P, B, Tq, KV, G, D] -> [P, B, KV, G, Tq, D]: a group's query heads share one K and V.
    qh = g.op('Transpose', [g.op('Reshape', [qh, shape([-1, 'B', tq, kvHeads, group, c.headDim])])], { perm: [0, 1, 3, 4, 2, 5] });
    const kh = rope(g.op('Reshape', [k, shape([-1, 'B', 'T', kvHeads, c.headDim])]), cos, sin);
    const vh = g.op('Reshape', [v, shape([-1, 'B', 'T', kvHeads, c.headDim])]);
    const grouped = (x: string) => g.op('Unsqueeze', [x, g.int64([3])]); // the group axis G = 1: broadcast over a group's query heads
    const queryBias = attnLast ? last(bias, 3) : bias;
    const vs = g.op('Transpose', [vh], { perm: [0, 1, 3, 2, 4] }); // [P, B, KV, T, D]
    let context: string; // [P, B, KV, G, Tq, D]
    if (decode) {
      // The cache stays where the caller keeps it (past_*: read in place, never copied into a
      // longer tensor); the new positions come back alone (new_*), for the caller to append.
      // Keys as the cache keeps them, [P, B, KV, T, D]: the scores are K q^T (the queries
      // transposed, not the cache), over the cached keys and the new ones, joined for one
      // softmax that is split again for the two value products.
      const ks = g.op('Transpose', [kh], { perm: [0, 1, 3, 2, 4] });
      const pastK = g.input(`past_k_${p.index}`, [samples, 'batch', kvHeads, 'past', c.headDim]);
      const pastV = g.input(`past_v_${p.index}`, [samples, 'batch', kvHeads, 'past', c.headDim]);
      g.output(ks, `new_k_${p.index}`, [samples, 'batch', kvHeads, 'seq', c.headDim]);
      g.output(vs, `new_v_${p.index}`, [samples, 'batch', kvHeads, 'seq', c.headDim]);
      const qT = g.op('Transpose', [qh], { perm: [0, 1, 2, 3, 5, 4] }); // [P, B, KV, G, D, Tq]
      const scoresT = g.op('Concat', [g.op('MatMul', [grouped(pastK), qT]), g.op('MatMul', [grouped(ks), qT])], { axis: -2 });
      const scores = g.op('Transpose', [scoresT], { perm: [0, 1, 2, 3, 5, 4] }); // [P, B, KV, G, Tq, past + T]
      const probs = g.op('Softmax', [g.op('Add', [scores, queryBias])], { axis: -1 });
      const pastLength = g.op('Slice', [g.op('Shape', [pastK]), g.int64([3]), g.int64([4])]);
      const pastProbs = g.op('Slice', [probs, g.int64([0]), pastLength, g.int64([-1])]);
      const newProbs = g.op('Slice', [probs, pastLength, g.int64([INT64_MAX]), g.int64([-1])]);
      context = g.op('Add', [g.op('MatMul', [pastProbs, grouped(pastV)]), g.op('MatMul', [newProbs, grouped(vs)])]);
    } else {
      const kT = g.op('Transpose', [kh], { perm: [0, 1, 3, 4, 2] }); // [P, B, KV, D, T]
      const probs = g.op('Softmax', [g.op('Add', [g.op('MatMul', [qh, grouped(kT)]), queryBias])], { axis: -1 });
      context = g.op('MatMul', [probs, grouped(vs)]);
    }
    const attn = g.op('Reshape', [g.op('Transpose', [context], { perm: [0, 1, 4, 2, 3, 5] }), shape([-1, 'B', tq, c.numHeads * c.headDim])]);
    let h1 = g.op('Add', [attnLast ? last(h, 2) : h, linear(attn, p.o, ['B', tq])]);
    if (mlpLast && !attnLast) h1 = last(h1, 2);
    const tm: Dim = mlpLast ? 1 : 'T';
    const y = rmsNorm(h1, weight(`model.layers.${p.index}.post_attention_layernorm.weight`, p.postAttentionNorm));
    const gate = linear(y, p.gate, ['B', tm]);
    const act = g.op('Mul', [gate, g.op('Sigmoid', [gate])]);
    const mlp = linear(g.op('Mul', [act, linear(y, p.up, ['B', tm])]), p.down, ['B', tm]);
    const out = g.op('Add', [h1, mlp]);
    return lastOnly && !mlpLast ? last(out, 2) : out;
  };

  // Embedding, with the sample axis P = 1 in front.
  const embedTable = weight('model.embed_tokens.weight', source(weights.embed));
  const embedded =
    weights.embed.place === 'device' && weights.embed.layout === 'kernel'
      ? g.op('Transpose', [g.op('Gather', [embedTable, ids], { axis: 1 })], { perm: decode ? [1, 2, 3, 0] : [1, 2, 0] })
      : asFloat(g.op('Gather', [embedTable, ids], { axis: 0 }), weights.embed);
  let h = decode ? embedded : g.op('Unsqueeze', [embedded, g.int64([0])]);
  const lastLayer = weights.layers.length - 1;
  // Columns and decoding read the last position only: the last layer's attention and MLP run for it alone.
  weights.layers.forEach((layer, i) => (h = decoderLayer(h, layer, output !== 'all' && i === lastLayer)));
  const hidden = rmsNorm(h, weight('model.norm.weight', weights.norm));

  const head = weights.lmHead;
  if (output === 'all') {
    const logits = linear(hidden, head, ['B', 'T']); // [P, B, T, V]
    const full = g.op('Expand', [logits, g.op('Concat', [g.op('Shape', [sampleAxis]), g.int64([1, 1, 1])], { axis: 0 })]);
    g.output(g.op('Transpose', [full], { perm: [1, 0, 2, 3] }), 'logits', ['batch', samples, 'seq', c.vocabSize]);
  } else if (decode) {
    const lastHidden = g.op('Reshape', [hidden, shape([-1, 'B', c.hiddenSize])]);
    const logits = linear(lastHidden, head, ['B']); // [P, B, V]
    const full = g.op('Expand', [logits, g.op('Concat', [g.op('Shape', [sampleAxis]), g.int64([1, 1])], { axis: 0 })]);
    const out = g.op('Transpose', [full], { perm: [1, 0, 2] });
    g.output(out, 'logits', ['batch', samples, c.vocabSize]);
    // log sum exp of each row (the NLL's normaliser), here instead of on the host between steps:
    // max + log sum exp(x - max) in vectorised element-wise ops (ReduceLogSumExp's kernel takes
    // ~8x as long for 40 rows of 32k).
    const max = g.op('ReduceMax', [out, g.int64([-1])], { keepdims: 1 });
    const sum = g.op('ReduceSum', [g.op('Exp', [g.op('Sub', [out, max])]), g.int64([-1])], { keepdims: 1 });
    const lse = g.op('Add', [g.op('Log', [sum]), max]);
    g.output(g.op('Squeeze', [lse, g.int64([-1])]), 'logsumexp', ['batch', samples]);
  } else {
    // [P, B, 1, H] -> [P, B, H]; the frozen head for the answer columns only, then the adapter's delta at those columns.
    const lastHidden = g.op('Reshape', [hidden, shape([-1, 'B', c.hiddenSize])]);
    const rows = asFloat(g.op('Gather', [weight(head.name, source(head.frozen)), columns!], { axis: head.layout === 'weight' ? 0 : 1 }), head.frozen);
    const product = g.op('Gemm', [g.op('Reshape', [lastHidden, g.int64([-1, c.hiddenSize])]), rows], { transB: head.layout === 'weight' ? 1 : 0 });
    let logits = g.op('Reshape', [product, shape([-1, 'B', 'C'])]);
    if (head.bias) logits = g.op('Add', [logits, g.op('Gather', [weight('lm_head.bias', head.bias), columns!], { axis: 0 })]);
    if (head.adapter) {
      if (!isOnnxAdapter(head.adapter)) throw new Error(`${head.name}: its adapter has no ONNX export`);
      const info: OnnxSiteInfo = { site: head, prefix: `a:${head.name}:`, samples, rank: 3, leadDims: ['batch'] };
      sites.push({ linear: head, info, leadRank: 1 });
      const delta = head.adapter.emitOnnx(g, lastHidden, info); // [S, B, V]
      logits = g.op('Add', [logits, g.op('Gather', [delta, columns!], { axis: 2 })]);
    }
    const full = g.op('Expand', [logits, g.op('Concat', [g.op('Shape', [sampleAxis]), g.int64([1, 1])], { axis: 0 })]);
    g.output(g.op('Transpose', [full], { perm: [1, 0, 2] }), 'logits', ['batch', samples, 'columns']);
  }
  return { bytes: g.toBytes(), weights: weightInputs, sites, output, nodeCount: g.nodeCount };
}
