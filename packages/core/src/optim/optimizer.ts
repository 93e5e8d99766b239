import { tf } from '@bayes-peft/tensor';

export type OptimizerKind = 'adamw' | 'adam' | 'sgd';

/** Parameters sharing one weight decay, like a torch param group. */
export interface ParamGroup {
  readonly params: readonly tf.Variable[];
  /** Defaults to the optimizer's `weightDecay`. */
  readonly weightDecay?: number;
}

/** Gradients by variable name, as `tf.variableGrads` returns them; a missing or null entry skips that parameter. */
export type GradMap = Readonly<Record<string, tf.Tensor | null | undefined>> | ReadonlyMap<string, tf.Tensor | null | undefined>;

/** One parameter's optimizer state on the host. */
export interface ParamState {
  readonly name: string;
  readonly shape: readonly number[];
  /** Updates applied to this parameter so far (torch keeps one count per parameter). */
  readonly step: number;
  /** Moment buffers by torch's names (`exp_avg`, `exp_avg_sq`); empty for plain SGD. */
  readonly slots: Readonly<Record<string, Float32Array>>;
}

/** Host copy of an optimizer's state: enough to resume a run bit-for-bit. */
export interface OptimizerState {
  readonly kind: OptimizerKind;
  readonly params: readonly ParamState[];
}

export interface OptimizerOptions {
  /** Base learning rate; `step(grads, lr)` may override it per step (the schedule). */
  readonly lr: number;
  /** Default weight decay of groups that set none. */
  readonly weightDecay?: number;
}

interface Entry {
  readonly param: tf.Variable;
  readonly weightDecay: number;
  step: number;
  readonly slots: Record<string, tf.Variable>;
}

/**
 * A first-order optimizer over given variables, updated from given gradients. State buffers are
 * non-trainable variables created up front (so tensor counts stay flat from the first step),
 * every update runs in `tf.tidy`, and `dispose()` frees the state (not the parameters).
 */
export abstract class Optimizer {
  abstract readonly kind: OptimizerKind;
  readonly lr: number;
  private readonly entries: Entry[] = [];
  private readonly byName = new Map<string, Entry>();
  private disposed = false;

  constructor(params: readonly tf.Variable[] | readonly ParamGroup[], options: OptimizerOptions) {
    this.lr = options.lr;
    const groups: readonly ParamGroup[] =
      params.length > 0 && params[0] instanceof tf.Variable ? [{ params: params as readonly tf.Variable[] }] : (params as readonly ParamGroup[]);
    for (const group of groups) {
      const wd = group.weightDecay ?? options.weightDecay ?? 0;
      for (const param of group.params) {
        if (this.byName.has(param.name)) throw new Error(`${this.constructor.name}: parameter '${param.name}' is listed twice`);
        const slots: Record<string, tf.Variable> = {};
        for (const slot of this.slotNames()) slots[slot] = tf.tidy(() => tf.variable(tf.zerosLike(param), false));
        const entry: Entry = { param, weightDecay: wd, step: 0, slots };
        this.entries.push(entry);
        this.byName.set(param.name, entry);
      }
    }
  }

  /** Names of the per-parameter state buffers. */
  protected abstract slotNames(): readonly string[];

  /** Returns the new parameter and the new slot values; runs inside tf.tidy. */
  protected abstract update(
    param: tf.Tensor,
    grad: tf.Tensor,
    slots: Readonly<Record<string, tf.Tensor>>,
    hyper: { lr: number; weightDecay: number; step: number },
  ): { param: tf.Tensor; slots: Record<string, tf.Tensor> };

  /** The parameters this optimizer updates, in order. */
  params(): tf.Variable[] {
    return this.entries.map((e) => e.param);
  }

  /** One update of every parameter that has a gradient, at learning rate `lr` (default: the base rate). */
  step(grads: GradMap, lr: number = this.lr): void {
    this.assertLive();
    const get = (name: string) => (grads instanceof Map ? grads.get(name) : (grads as Record<string, tf.Tensor | null | undefined>)[name]);
    for (const entry of this.entries) {
      const grad = get(entry.param.name);
      if (grad == null) continue;
      if (!tf.util.arraysEqual(grad.shape, entry.param.shape)) {
        throw new Error(`${this.kind}: gradient of '${entry.param.name}' has shape [${grad.shape}], the parameter [${entry.param.shape}]`);
      }
      entry.step += 1;
      tf.tidy(() => {
        const out = this.update(entry.param, grad, entry.slots, { lr, weightDecay: entry.weightDecay, step: entry.step });
        entry.param.assign(out.param);
        for (const [k, v] of Object.entries(out.slots)) entry.slots[k].assign(v);
      });
    }
  }

  getState(): OptimizerState {
    this.assertLive();
    return {
      kind: this.kind,
      params: this.entries.map((e) => ({
        name: e.param.name,
        shape: [...e.param.shape],
        step: e.step,
        slots: Object.fromEntries(Object.entries(e.slots).map(([k, v]) => [k, Float32Array.from(v.dataSync() as Float32Array)])),
      })),
    };
  }

  /**
   * Restores a state from `getState()`. Parameters are matched by position (names may differ
   * between processes, e.g. auto-generated variable names); shapes and slots must agree.
   */
  setState(state: OptimizerState): void {
    this.assertLive();
    if (state.kind !== this.kind) throw new Error(`cannot restore a '${state.kind}' optimizer state into '${this.kind}'`);
    if (state.params.length !== this.entries.length) {
      throw new Error(`${this.kind}: state holds ${state.params.length} parameters, the optimizer ${this.entries.length}`);
    }
    state.params.forEach((ps, i) => {
      const e = this.entries[i];
      if (!tf.util.arraysEqual([...ps.shape], e.param.shape)) {
        throw new Error(`${this.kind}: state of parameter ${i} ('${ps.name}') has shape [${ps.shape}], '${e.param.name}' has [${e.param.shape}]`);
      }
      for (const slot of Object.keys(e.slots)) {
        const data = ps.slots[slot];
        if (!data || data.length !== e.param.size) throw new Error(`${this.kind}: state of '${ps.name}' lacks a valid '${slot}' buffer`);
      }
    });
    state.params.forEach((ps, i) => {
      const e = this.entries[i];
      e.step = ps.step;
      for (const [slot, v] of Object.entries(e.slots)) tf.tidy(() => v.assign(tf.tensor(ps.slots[slot], e.param.shape, 'float32')));
    });
  }

  /** Frees the state buffers; the parameters belong to the caller. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const e of this.entries) for (const v of Object.values(e.slots)) v.dispose();
  }

  private assertLive(): void {
    if (this.disposed) throw new Error(`${this.kind}: optimizer used after dispose()`);
  }
}

/**
 * Flattens optimizer states into named host tensors (for a safetensors checkpoint) plus a small
 * JSON-able index; `decodeOptimizerStates` inverts it.
 */
export function encodeOptimizerStates(states: Readonly<Record<string, OptimizerState>>): {
  tensors: Record<string, { shape: number[]; data: Float32Array }>;
  index: Record<string, { kind: OptimizerKind; params: { name: string; shape: number[]; step: number; slots: string[] }[] }>;
} {
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  const index: ReturnType<typeof encodeOptimizerStates>['index'] = {};
  for (const [key, st] of Object.entries(states)) {
    index[key] = { kind: st.kind, params: [] };
    st.params.forEach((p, i) => {
      index[key].params.push({ name: p.name, shape: [...p.shape], step: p.step, slots: Object.keys(p.slots) });
      for (const [slot, data] of Object.entries(p.slots)) tensors[`${key}.${i}.${slot}`] = { shape: [...p.shape], data };
    });
  }
  return { tensors, index };
}

export function decodeOptimizerStates(
  index: ReturnType<typeof encodeOptimizerStates>['index'],
  tensors: ReadonlyMap<string, { data: Float32Array | Int32Array }> | Readonly<Record<string, { data: Float32Array | Int32Array }>>,
): Record<string, OptimizerState> {
  const get = (k: string) => (tensors instanceof Map ? tensors.get(k) : (tensors as Record<string, { data: Float32Array | Int32Array }>)[k]);
  const out: Record<string, OptimizerState> = {};
  for (const [key, st] of Object.entries(index)) {
    out[key] = {
      kind: st.kind,
      params: st.params.map((p, i) => ({
        name: p.name,
        shape: p.shape,
        step: p.step,
        slots: Object.fromEntries(
          p.slots.map((slot) => {
            const t = get(`${key}.${i}.${slot}`);
            if (!t) throw new Error(`optimizer state '${key}': buffer '${key}.${i}.${slot}' is missing`);
            return [slot, Float32Array.from(t.data)];
          }),
        ),
      })),
    };
  }
  return out;
}
