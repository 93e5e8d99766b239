/**
 * onnxruntime-node, loaded on first use: a machine where it is not installed or its native binary
 * does not load still runs everything else (on TensorFlow.js), and is told why in one line.
 *
 * It is an optional dependency: on linux x64 its install script downloads CUDA libraries, and
 * where that download cannot happen npm leaves the package out instead of failing the install.
 * `ONNXRUNTIME_NODE_INSTALL=skip` at install keeps its CPU build without the download.
 */
// From env, not core: loading core loads TensorFlow.js, which this module does not need.
import { readEnv } from '@bayes-peft/env';
import type { OnnxFeed } from './adapter';

type Ort = typeof import('onnxruntime-node');

/** Threads of onnxruntime's intra-op pool (default: every core); BAYES_PEFT_THREADS is OpenBLAS' only. */
export const ORT_THREADS_ENV = 'BAYES_PEFT_ORT_THREADS';

/** The one line a run prints when onnxruntime-node was left out at install. */
export const ORT_NOT_INSTALLED =
  'onnxruntime-node is not installed (npm leaves it out when its install script cannot download its CUDA libraries; ' +
  'ONNXRUNTIME_NODE_INSTALL=skip npm install installs its CPU build)';

let loaded: { ort: Ort; version: string } | { error: string } | null = null;

/** The onnxruntime-node module, or why it is not available. */
export function loadOnnxRuntime(): { ort: Ort; version: string } | { error: string } {
  if (loaded) return loaded;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ort = require('onnxruntime-node') as Ort;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const version = (require('onnxruntime-node/package.json') as { version: string }).version;
    loaded = { ort, version };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const missing = err.code === 'MODULE_NOT_FOUND' && /'onnxruntime-node(\/package\.json)?'/.test(err.message.split('\n')[0]);
    loaded = { error: missing ? ORT_NOT_INSTALLED : `onnxruntime-node does not load here (${err.message.split('\n')[0]})` };
  }
  return loaded;
}

/** Null when onnxruntime can run, else the reason. */
export function onnxRuntimeUnavailable(): string | null {
  const r = loadOnnxRuntime();
  return 'error' in r ? r.error : null;
}

/** onnxruntime's intra-op threads: $BAYES_PEFT_ORT_THREADS, else every core. */
export function ortThreads(): number {
  return readEnv(ORT_THREADS_ENV);
}

/** Execution providers to try, best first: CUDA where its libraries are installed, then the CPU. */
function providers(ort: Ort): string[] {
  // 'cuda' is listed on every linux x64 build; it runs only where its provider libraries were
  // installed with the package (bundled), or when BAYES_PEFT_ORT_CUDA=1 says they are on the path.
  const cuda = ort.listSupportedBackends().find((b) => b.name === 'cuda');
  const env = readEnv('BAYES_PEFT_ORT_CUDA');
  return cuda && env !== '0' && (cuda.bundled || env === '1') ? ['cuda', 'cpu'] : ['cpu'];
}

/** A session input: an adapter's feed, or int64 data (token ids and masks of Hugging Face ONNX exports). */
export interface SessionFeed {
  readonly data: OnnxFeed['data'] | BigInt64Array;
  readonly dims: readonly number[];
  readonly type?: OnnxFeed['type'];
}

export interface SessionOutput {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/** One loaded graph. Feeds are read in place (no copy): they must not change until `run` resolves. */
export class OnnxSession {
  private constructor(
    private readonly session: import('onnxruntime-node').InferenceSession,
    private readonly ort: Ort,
    /** The provider that took the graph, and the thread count: for the start-up line. */
    readonly description: string,
  ) {}

  /**
   * `spin: false` stops the pool's threads from spinning after a run: for graphs run again and
   * again with host work in between (a decoding step, then sampling on the host), where the
   * spinning threads would take the cores that host work needs.
   */
  static async create(model: Uint8Array, options: { threads?: number; name?: string; spin?: boolean } = {}): Promise<OnnxSession> {
    const r = loadOnnxRuntime();
    if ('error' in r) throw new Error(r.error);
    const threads = options.threads ?? ortThreads();
    // No memory pattern: its per-shape allocation plans stay resident, and evaluation batches
    // come in many shapes (sequence lengths); on random-40M it added ~70 MiB of peak RSS for no
    // measurable speed. The arena stays on: without it glibc's allocator fragments (peak +800 MiB).
    const base = {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all' as const,
      enableMemPattern: false,
      ...(options.spin === false ? { extra: { session: { intra_op: { allow_spinning: '0' } } } } : {}),
    };
    let lastError: unknown;
    for (const provider of providers(r.ort)) {
      try {
        const session = await r.ort.InferenceSession.create(model, { ...base, executionProviders: [provider] });
        return new OnnxSession(session, r.ort, `onnxruntime-node ${r.version} (${provider}, ${threads} thread${threads === 1 ? '' : 's'})`);
      } catch (e) {
        // CUDA listed but its libraries absent: fall through to the CPU.
        lastError = e;
      }
    }
    throw new Error(`onnxruntime could not load ${options.name ?? 'the graph'}: ${(lastError as Error).message}`);
  }

  async run(feeds: Record<string, SessionFeed>, outputs?: readonly string[]): Promise<Record<string, SessionOutput>> {
    const inputs: Record<string, import('onnxruntime-node').Tensor> = {};
    for (const [name, feed] of Object.entries(feeds)) {
      const type =
        feed.data instanceof Float32Array
          ? 'float32'
          : feed.data instanceof Int8Array
            ? 'int8'
            : feed.data instanceof Uint16Array
              ? (feed.type ?? 'uint16')
              : feed.data instanceof BigInt64Array
                ? 'int64'
                : 'int32';
      inputs[name] = new this.ort.Tensor(type, feed.data as Float32Array, feed.dims as number[]);
    }
    const result = await (outputs ? this.session.run(inputs, outputs as string[]) : this.session.run(inputs));
    const out: Record<string, SessionOutput> = {};
    for (const [name, t] of Object.entries(result)) out[name] = { data: t.data as Float32Array, dims: t.dims };
    return out;
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  /** Each tensor input's element type as the graph declares it (`int64`, `float32`, ...), by name. */
  get inputTypes(): Readonly<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const m of this.session.inputMetadata) if (m.isTensor) out[m.name] = m.type;
    return out;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
