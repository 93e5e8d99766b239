/**
 * Runs the decoder graph under onnxruntime: builds (and caches) one graph per sample count,
 * output kind and adapter layout, and feeds it a batch, the adapters' inputs and the weights.
 */
import { hostView, tf } from '@bayes-peft/tensor';
import { contextOfSample, readEnv, type SampleContext, type TokenBatch } from '@bayes-peft/core';
import { isOnnxAdapter, type OnnxFeed, OnnxSession, onnxRuntimeUnavailable } from '@bayes-peft/onnx';
import { hostBiasValues } from '../attention';
import type { CausalLmConfig } from '../config';
import type { Linear } from '../linear';
import { maskPositions } from '../encode';
import { writeRopeRow } from '../rope';
import type { ModelWeights } from '../weights';
import { buildDecoderGraph, type DecoderGraph, type DecoderGraphOutput } from './decoder-graph';
import { HostKvCache, KvBufferPool } from './host-kv-cache';

/** Rows (samples x batch x seq) one onnxruntime run may carry: the knob between peak memory and speed. */
export const ORT_ROWS_ENV = 'BAYES_PEFT_ORT_ROWS';

/** $BAYES_PEFT_ORT_ROWS (default 1536; declared in @bayes-peft/env): a bad value is an error naming it. */
function samplesRowBudget(): number {
  return readEnv(ORT_ROWS_ENV);
}

interface RunBase {
  readonly samples: number;
  /** Sample s's context (samples may share one stream: they then draw from it in turn). */
  readonly sampleContext: SampleContext;
}

export type OnnxRunOptions = (RunBase & { readonly output: 'columns'; readonly columns: readonly number[] }) | (RunBase & { readonly output: 'all' });

/**
 * The weights' feeds, read in place: device tensors as views of the backend's memory (take them
 * last: a view of the wasm heap is valid only until the next TensorFlow.js allocation), host
 * matrices as they are stored.
 */
function weightFeeds(graph: DecoderGraph): Record<string, OnnxFeed> {
  const feeds: Record<string, OnnxFeed> = {};
  for (const [name, src] of graph.weights) {
    feeds[name] =
      src instanceof tf.Tensor ? { data: hostView(src), dims: src.shape } : { data: src.data, dims: [src.rows, src.cols], type: src.dtype === 'F16' ? 'float16' : undefined };
  }
  return feeds;
}

export class OnnxDecoder {
  private readonly graphs = new Map<string, Promise<{ graph: DecoderGraph; session: OnnxSession }>>();
  /** Cache buffers of finished decodings, for the next (see HostKvCache). */
  private readonly kvPool = new KvBufferPool();
  /** Set once the first session exists: which provider and how many threads. */
  description: string | null = null;

  constructor(
    private readonly config: CausalLmConfig,
    private readonly weights: ModelWeights,
    private readonly invFreq: Float32Array,
    private readonly sites: () => readonly Linear[],
  ) {}

  /** Null when a run can go ahead, else why not. */
  unavailable(): string | null {
    const runtime = onnxRuntimeUnavailable();
    if (runtime) return runtime;
    for (const site of this.sites()) {
      if (site.adapter && !isOnnxAdapter(site.adapter)) {
        return `the adapter on ${site.name} (${site.adapter.constructor.name}) has no ONNX export`;
      }
    }
    return null;
  }

  /**
   * Logits [B, samples, C] (columns) or [B, samples, T, V] (all). Random draws happen in the
   * order `samples` calls of CausalLm.forward with `sampleContext(s)` make them: sample by
   * sample, site by site.
   */
  async run(batch: TokenBatch, options: OnnxRunOptions): Promise<tf.Tensor> {
    const reason = this.unavailable();
    if (reason) throw new Error(`onnxruntime forward: ${reason}`);
    const [b, t] = batch.inputIds.shape;
    const ids = Int32Array.from(batch.inputIds.dataSync());
    const mask = batch.attentionMask.dataSync();
    const common: Record<string, OnnxFeed> = { input_ids: { data: ids, dims: [b, t] }, ...this.positionFeeds(mask, b, t) };
    if (options.output === 'columns') {
      for (const col of options.columns) {
        if (!Number.isInteger(col) || col < 0 || col >= this.config.vocabSize) throw new Error(`forward: column ${col} is outside the vocabulary [0, ${this.config.vocabSize})`);
      }
      common.columns = { data: Int32Array.from(options.columns), dims: [options.columns.length] };
    }
    // Samples in runs of at most `perRun` (peak memory grows with samples x batch x seq rows);
    // drawn run after run from the same ctx, so the random stream is the one S forwards use.
    const perRun = Math.max(1, Math.min(options.samples, Math.floor(samplesRowBudget() / (b * t)) || 1));
    const parts: { data: Float32Array; dims: readonly number[] }[] = [];
    for (let done = 0; done < options.samples; done += perRun) {
      const n = Math.min(perRun, options.samples - done);
      const { graph, session } = await this.session(options.output);
      const feeds: Record<string, OnnxFeed> = { ...common, sample_axis: { data: new Float32Array(n), dims: [n] }, ...this.adapterFeeds(graph, done, n, [b, t], options) };
      // Last: views into the wasm heap stay valid only until the next TensorFlow.js allocation.
      Object.assign(feeds, weightFeeds(graph));
      parts.push((await session.run(feeds, ['logits'])).logits);
    }
    return tf.tidy(() => {
      const ts = parts.map((p) => tf.tensor(p.data, [...p.dims], 'float32'));
      return ts.length === 1 ? ts[0] : tf.concat(ts, 1); // [B, samples, ...]
    });
  }

  /**
   * One step of incremental decoding of `ids` [S][B][Tn] (one sequence per weight sample) at
   * RoPE `positions` [B][Tn], attending over `cache` and themselves under `mask` [B][length + Tn]
   * (1 = a real token, the new positions last; positions and mask are the same for every
   * sample). Adapters draw sample s's inputs from `sampleContext(s)`. Returns the last
   * position's logits [B, S, V] and their log-sum-exp [B, S]; the new keys and values are
   * written into `cache`.
   */
  async decodeStep(
    ids: readonly (readonly (readonly number[])[])[],
    positions: readonly (readonly number[])[],
    mask: readonly (readonly number[])[],
    cache: HostKvCache,
    options: { readonly sampleContext: SampleContext },
  ): Promise<{ logits: Float32Array; logSumExp: Float32Array }> {
    const reason = this.unavailable();
    if (reason) throw new Error(`onnxruntime decoding: ${reason}`);
    const { graph, session } = await this.session('decode');
    const samples = ids.length;
    const b = ids[0].length;
    const tn = ids[0][0].length;
    const c = this.config;
    const feeds: Record<string, OnnxFeed> = {
      input_ids: { data: Int32Array.from(ids.flat(2)), dims: [samples, b, tn] },
      ...this.ropeFeeds(positions),
      bias: cache.bias(mask, tn, c.slidingWindow),
      sample_axis: { data: new Float32Array(samples), dims: [samples] },
      ...this.adapterFeeds(graph, 0, samples, [b, tn], { samples, ...options }),
    };
    for (let l = 0; l < c.numLayers; l++) {
      const past = cache.feeds(l);
      feeds[`past_k_${l}`] = past.k;
      feeds[`past_v_${l}`] = past.v;
    }
    Object.assign(feeds, weightFeeds(graph));
    const out = await session.run(feeds);
    for (let l = 0; l < c.numLayers; l++) cache.write(l, out[`new_k_${l}`].data, out[`new_v_${l}`].data, tn);
    cache.advance(tn);
    return { logits: out.logits.data, logSumExp: out.logsumexp.data };
  }

  /** An empty cache for a decoding of `samples` x `rows` sequences of up to `capacity` positions; release() it after. */
  kvCache(samples: number, rows: number, capacity: number): HostKvCache {
    const c = this.config;
    return new HostKvCache({ layers: c.numLayers, samples, rows, kvHeads: c.numKeyValueHeads, headDim: c.headDim, capacity }, this.kvPool);
  }

  /** Frees every session. */
  async dispose(): Promise<void> {
    this.kvPool.clear();
    const all = [...this.graphs.values()];
    this.graphs.clear();
    for (const p of all) await (await p).session.dispose().catch(() => undefined);
  }

  private session(output: DecoderGraphOutput): Promise<{ graph: DecoderGraph; session: OnnxSession }> {
    const layout = this.sites()
      .filter((s) => s.adapter)
      .map((s) => `${s.name}=${isOnnxAdapter(s.adapter) ? s.adapter.onnxSignature() : '?'}`)
      .join(';');
    const key = `${output}|${layout}`;
    let entry = this.graphs.get(key);
    if (!entry) {
      entry = (async () => {
        const graph = buildDecoderGraph(this.config, this.weights, output);
        // Decoding runs the graph once per token with sampling on the host in between: no spinning
        // (the same speed on random-40M, 20% less CPU time, and the host's sampling keeps its core).
        const session = await OnnxSession.create(graph.bytes, { name: `the ${this.config.modelType} decoder graph`, spin: output !== 'decode' });
        this.description = session.description;
        return { graph, session };
      })();
      entry.catch(() => this.graphs.delete(key));
      this.graphs.set(key, entry);
    }
    return entry;
  }

  /** RoPE cos/sin at each token's position (cumsum(mask) - 1, as CausalLm.forward) and the causal + padding bias. */
  private positionFeeds(mask: ArrayLike<number>, b: number, t: number): Record<string, OnnxFeed> {
    const rows = Array.from({ length: b }, (_, r) => Array.from({ length: t }, (_, j) => (mask[r * t + j] ? 1 : 0)));
    return { ...this.ropeFeeds(maskPositions(rows)), bias: { data: hostBiasValues(rows, t, this.config.slidingWindow), dims: [b, 1, 1, t, t] } };
  }

  /** cos and signed sin [B, T, 1, D] of RoPE positions [B][T]. */
  private ropeFeeds(positions: readonly (readonly number[])[]): Record<'cos' | 'sin', OnnxFeed> {
    const b = positions.length;
    const t = positions[0].length;
    const d = this.config.headDim;
    const cos = new Float32Array(b * t * d);
    const sin = new Float32Array(b * t * d);
    positions.forEach((row, r) => row.forEach((p, j) => writeRopeRow(this.invFreq, p, cos, sin, (r * t + j) * d)));
    return { cos: { data: cos, dims: [b, t, 1, d] }, sin: { data: sin, dims: [b, t, 1, d] } };
  }

  /** Shared inputs once; per-sample inputs drawn sample by sample and stacked on a leading axis. */
  private adapterFeeds(graph: DecoderGraph, first: number, samples: number, bt: readonly [number, number], options: RunBase): Record<string, OnnxFeed> {
    const feeds: Record<string, OnnxFeed> = {};
    // The adapters on the sites now (the graph may have been built for earlier instances of the same kind).
    const adapters = graph.sites.map((s) => {
      const a = s.linear.adapter;
      if (!isOnnxAdapter(a)) throw new Error(`onnxruntime forward: ${s.linear.name} has no ONNX-exportable adapter any more`);
      return a;
    });
    graph.sites.forEach((s, i) => Object.assign(feeds, adapters[i].onnxShared(s.info)));
    const perSample = new Map<string, OnnxFeed[]>();
    for (let k = 0; k < samples; k++) {
      const sample = first + k;
      const ctx = contextOfSample(options.sampleContext, sample);
      for (const [i, s] of graph.sites.entries()) {
        const lead = bt.slice(0, s.leadRank);
        for (const [name, feed] of Object.entries(adapters[i].onnxSample(s.info, lead, ctx, sample))) {
          let list = perSample.get(name);
          if (!list) perSample.set(name, (list = []));
          list.push(feed);
        }
      }
    }
    for (const [name, list] of perSample) {
      if (list.length !== samples) throw new Error(`onnx feed ${name}: ${list.length} samples of ${samples}`);
      const size = list[0].data.length;
      const Ctor = list[0].data.constructor as new (n: number) => Float32Array | Int8Array | Int32Array;
      const data = new Ctor(size * list.length);
      list.forEach((f, k) => data.set(f.data, k * size));
      feeds[name] = { data, dims: [list.length, ...list[0].dims] };
    }
    return feeds;
  }
}
