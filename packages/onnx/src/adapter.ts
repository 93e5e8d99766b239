/**
 * The contract between a backbone that exports itself as an ONNX graph and the adapters
 * installed on it: each adapter adds its own delta to the graph and supplies the values of the
 * inputs it declared, so a custom wrapper's adapter runs under onnxruntime without the backbone
 * knowing its maths. OnnxGraphBuilder is the part of the graph builder (graph-builder.ts) an
 * adapter sees. None of this is in core: core's contracts know only the engine's name.
 */
import type { ForwardContext, LinearSite } from '@bayes-peft/core';

/** A dimension: a fixed size, or a symbolic name ('batch', 'seq', ...) fixed at run time. */
export type OnnxDim = number | string;

export type OnnxAttribute = number | string | readonly number[];

/** The part of an ONNX graph builder an adapter needs. Values are named by strings. */
export interface OnnxGraphBuilder {
  /** Declares a graph input of float32 (or int8, int32) elements, fed on every run; returns its name. */
  input(name: string, dims: readonly OnnxDim[], elemType?: 'float32' | 'int8' | 'int32'): string;
  /** A float32 constant baked into the graph. */
  constant(data: Float32Array, dims: readonly number[]): string;
  /** An int64 constant (shapes, axes, indices). */
  int64(values: readonly number[], dims?: readonly number[]): string;
  /** Adds one node of the default ONNX domain with a single output; returns the output's name. */
  op(type: string, inputs: readonly string[], attributes?: Record<string, OnnxAttribute>): string;
}

/** Host data of one graph input. */
export interface OnnxFeed {
  readonly data: Float32Array | Int8Array | Int32Array | Uint16Array;
  readonly dims: readonly number[];
  /** A Uint16Array's element type: 'uint16' (default; e.g. raw bfloat16 bits) or 'float16'. */
  readonly type?: 'uint16' | 'float16';
}

export interface OnnxSiteInfo {
  readonly site: LinearSite;
  /** Prefix every input name the adapter declares must start with (unique per site). */
  readonly prefix: string;
  /**
   * The graph's sample axis: the dimension to declare per-sample inputs with (a symbolic name:
   * one graph serves any number of samples per run).
   */
  readonly samples: OnnxDim;
  /**
   * Rank of the adapter's input x, sample axis included: x is [P, ...lead, in] where P is 1
   * (the input is the same for every sample, e.g. in the first layer) or `samples`, and lead is
   * [batch, seq] or [batch].
   */
  readonly rank: number;
  /** The graph's dimensions of those lead axes (symbolic: ['batch', 'seq'] or ['batch']), for declaring per-token inputs. */
  readonly leadDims: readonly OnnxDim[];
}

/**
 * Unit axes that make a per-sample operand broadcast against x [samples, ...lead, in]: one per
 * lead axis after the batch, e.g. [1] for x [S, B, T, in], so a matrix [S, 1, in, r] multiplies
 * every position and a per-sequence vector [S, B, 1, in] scales every position of its row.
 */
export function onnxUnitAxes(info: OnnxSiteInfo): number[] {
  return new Array<number>(info.leadDims.length - 1).fill(1);
}

/**
 * An adapter that can run inside an ONNX export of its backbone. `emitOnnx` adds delta(x) to the
 * graph once; on every run the backbone asks for the values of the inputs it declared:
 * `onnxShared` once, and `onnxSample` once per weight sample in sample order, drawing from the
 * context's rng exactly what `delta` would draw for the same input shape, so a seeded
 * evaluation gives the same numbers under either engine.
 */
export interface OnnxAdapter {
  /**
   * Names the graph `emitOnnx` would add now (e.g. 'lora-mean' or 'flipout/gaussian'): the
   * backbone rebuilds its graph when this changes (a sampler switched to its mean, say).
   */
  onnxSignature(): string;
  /** Adds delta(x); returns a value of shape [samples or 1, ...lead, out]. */
  emitOnnx(g: OnnxGraphBuilder, x: string, info: OnnxSiteInfo): string;
  /** Inputs that are the same for every sample (e.g. the posterior mean), by full input name. */
  onnxShared(info: OnnxSiteInfo): Record<string, OnnxFeed>;
  /**
   * One weight sample's inputs, by full input name, without the sample axis (the backbone stacks
   * the samples along it). `lead` is x's shape without the sample and feature axes; `sample` is
   * the sample's index in the forward (0 .. samples - 1: an ensemble's member), and `ctx` the
   * context `delta` would get in that sample's forward.
   */
  onnxSample(info: OnnxSiteInfo, lead: readonly number[], ctx: ForwardContext, sample: number): Record<string, OnnxFeed>;
}

export function isOnnxAdapter(adapter: unknown): adapter is OnnxAdapter {
  const a = adapter as Partial<OnnxAdapter> | null;
  return !!a && typeof a.emitOnnx === 'function' && typeof a.onnxSignature === 'function' && typeof a.onnxShared === 'function' && typeof a.onnxSample === 'function';
}
