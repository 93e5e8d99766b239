import * as tf from '@tensorflow/tfjs-core';

/**
 * TensorFlow.js' engine.gradients with the same results and far less memory.
 *
 * The engine's own backward pass (tfjs-core 4.22 engine.ts `gradients`, tape.ts
 * `backpropagateGradients`) keeps every intermediate gradient and every tensor the forward pass
 * saved for it until the whole backward pass ends. On a random-40M BLoB step that is the
 * gradient of each activation of all 8 layers plus all saved activations at once: the wasm heap
 * peaked at ~1 GB, and it never shrinks. Here each node's output gradients are freed once the
 * node has been processed (its producer comes before all its consumers on the tape, so nothing
 * reads them later), as are the tensors the node saved and its input gradients once added into
 * the running sums. The arithmetic and its order are unchanged; only frees move earlier.
 *
 * The tape filter and the loop follow tape.ts (Apache-2.0, Google LLC) line for line.
 */

interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  gradient?: (dys: Array<tf.Tensor | null>) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

/** The members of tfjs-core's Engine this replacement uses (all present in 4.x). */
export interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(nameOrFn: string | (() => T), fn?: () => T): T;
  gradients<T extends tf.Tensor>(
    f: () => T,
    xs: tf.Tensor[],
    dy?: T,
    allowNoGradients?: boolean,
  ): { value: T; grads: tf.Tensor[] };
}

type Gradients = EngineInternals['gradients'];

let original: Gradients | null = null;

/** Puts lean gradients in place of the engine's (idempotent). */
export function installLeanGradients(): void {
  const engine = tf.engine() as unknown as EngineInternals;
  if (original) return;
  original = engine.gradients;
  engine.gradients = leanGradients(engine, original) as Gradients;
}

/** Gives the engine its own gradients back. */
export function uninstallLeanGradients(): void {
  if (!original) return;
  (tf.engine() as unknown as EngineInternals).gradients = original;
  original = null;
}

export function leanGradientsInstalled(): boolean {
  return original !== null;
}

function leanGradients(engine: EngineInternals, own: Gradients) {
  return function gradients(f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients = false) {
    // Gradients of gradients keep the engine's own bookkeeping: the outer tape records this pass.
    if (engine.state.gradientDepth !== 0) return own.call(engine, f, xs, dy, allowNoGradients);
    tf.util.assert(xs.length > 0, () => 'gradients() received an empty list of xs.');
    if (dy != null && dy.dtype !== 'float32') throw new Error(`dy must have 'float32' dtype, but has '${dy.dtype}'`);
    const y = engine.scopedRun(
      () => engine.startTape(),
      () => engine.endTape(),
      () => engine.tidy('forward', f),
    );
    tf.util.assert(y instanceof tf.Tensor, () => 'The result y returned by f() must be a tensor.');
    const filteredTape = filterTape(engine.state.activeTape!, xs, y);
    if (!allowNoGradients && filteredTape.length === 0 && xs.length > 0) {
      throw new Error(
        'Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed encloses all operations that lead from x to y.',
      );
    }
    return engine.tidy('backward', () => {
      // Tensor ids grow monotonically: anything older than this marker existed before the
      // backward pass (weights, the caller's dy, a tensor a gradient function returned as is)
      // and is never freed here.
      const firstId = tf.scalar(0).id;
      const grads = new RunningGradients(firstId);
      grads.set(y.id, dy ?? tf.ones(y.shape));
      for (let i = filteredTape.length - 1; i >= 0; i--) {
        const node = filteredTape[i];
        const dys = node.outputs.map((o) => grads.get(o.id));
        if (node.gradient == null) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
        const inputGradients = node.gradient(dys);
        for (const inputName in node.inputs) {
          if (!(inputName in inputGradients)) {
            throw new Error(`Cannot backprop through input ${inputName}. Available gradients found: ${Object.keys(inputGradients)}.`);
          }
          const dx = engine.tidy(() => inputGradients[inputName]());
          if (dx.dtype !== 'float32') {
            throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input ${inputName} must have 'float32' dtype, but has '${dx.dtype}'`);
          }
          const x = node.inputs[inputName];
          if (!tf.util.arraysEqual(dx.shape, x.shape)) {
            throw new Error(
              `Error in gradient for op ${node.kernelName}. The gradient of input '${inputName}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`,
            );
          }
          grads.accumulate(x.id, dx);
        }
        // Nothing reads this node's output gradients or saved tensors again.
        for (const o of node.outputs) grads.drop(o.id);
        for (const t of node.saved ?? []) if (!grads.holds(t)) t.dispose();
      }
      const result = xs.map((x) => grads.get(x.id)!);
      for (const node of engine.state.activeTape!) for (const t of node.saved ?? []) t.dispose();
      engine.state.activeTape = null;
      return { value: y, grads: result };
    });
  };
}

/**
 * The running gradient of each tensor id, with a count of how many ids hold each tensor
 * object, so a tensor is freed only when no id holds it any more, and only if this backward
 * pass made it (id >= firstId).
 */
class RunningGradients {
  private readonly byId = new Map<number, tf.Tensor>();
  private readonly holders = new Map<tf.Tensor, number>();

  constructor(private readonly firstId: number) {}

  get(id: number): tf.Tensor | null {
    return this.byId.get(id) ?? null;
  }

  holds(t: tf.Tensor): boolean {
    return this.holders.has(t);
  }

  set(id: number, t: tf.Tensor): void {
    this.byId.set(id, t);
    this.holders.set(t, (this.holders.get(t) ?? 0) + 1);
  }

  /** Adds dx into id's sum; the old sum and dx are freed unless something else holds them. */
  accumulate(id: number, dx: tf.Tensor): void {
    const current = this.byId.get(id);
    if (current === undefined) {
      this.set(id, dx);
      return;
    }
    const sum = tf.add(current, dx);
    this.drop(id);
    this.set(id, sum);
    this.release(dx);
  }

  drop(id: number): void {
    const t = this.byId.get(id);
    if (t === undefined) return;
    this.byId.delete(id);
    const n = this.holders.get(t)! - 1;
    if (n > 0) this.holders.set(t, n);
    else {
      this.holders.delete(t);
      this.release(t);
    }
  }

  private release(t: tf.Tensor): void {
    if (!this.holders.has(t) && t.id >= this.firstId) t.dispose();
  }
}

/** The nodes on a path from some x to y, inputs pruned to those that come from an x (tape.ts getFilteredNodesXToY). */
function filterTape(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    for (const inputName in node.inputs) {
      if (fromX.has(node.inputs[inputName].id)) {
        for (const o of node.outputs) fromX.add(o.id);
        nodesFromX.add(node.id);
        break;
      }
    }
  }
  const leadToY = new Set<number>([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (node.outputs.some((o) => leadToY.has(o.id))) {
      for (const inputName in node.inputs) {
        leadToY.add(node.inputs[inputName].id);
        nodesToY.add(node.id);
      }
    }
  }
  const out: TapeNode[] = [];
  for (const node of tape) {
    if (!nodesFromX.has(node.id) || !nodesToY.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const inputName in node.inputs) if (fromX.has(node.inputs[inputName].id)) inputs[inputName] = node.inputs[inputName];
    out.push({ ...node, inputs, outputs: node.outputs });
  }
  return out;
}
