/**
 * Builds an ONNX model (opset 26, default domain only) node by node and serialises it with
 * onnx-proto's generated protobuf code. Values are plain strings; every node has one output
 * named after a counter, so emitters never collide. Only what our exports need is modelled.
 */
import { onnx } from 'onnx-proto';
import type { OnnxAttribute, OnnxDim, OnnxGraphBuilder } from './adapter';

/**
 * Opset 26 for BitCast, which lets a graph take bfloat16 weights as the raw uint16 bits that
 * onnxruntime's JavaScript API can pass (it has no bfloat16 tensors) and widen them with one
 * exact Cast. onnxruntime-node 1.30 runs it.
 */
export const OPSET = 26;
/** The ONNX IR version the graphs declare (onnxruntime 1.30 reads it with opset 26). */
export const IR_VERSION = 11;

const ELEM = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  bfloat16: onnx.TensorProto.DataType.BFLOAT16,
  uint16: onnx.TensorProto.DataType.UINT16,
  int8: onnx.TensorProto.DataType.INT8,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
} as const;
/** ONNX's TensorProto element type numbers, for Cast's `to`. */
export const ONNX_TYPE = ELEM;
export type ElemType = keyof typeof ELEM;

export interface GraphInput {
  readonly name: string;
  readonly dims: readonly OnnxDim[];
  readonly elemType: ElemType;
}

export class GraphBuilder implements OnnxGraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: GraphInput[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private readonly int64Cache = new Map<string, string>();
  private counter = 0;

  constructor(readonly name: string) {}

  input(name: string, dims: readonly OnnxDim[], elemType: ElemType = 'float32'): string {
    this.claim(name);
    this.inputs.push({ name, dims: [...dims], elemType });
    return name;
  }

  /** Inputs in declaration order. */
  graphInputs(): readonly GraphInput[] {
    return this.inputs;
  }

  constant(data: Float32Array, dims: readonly number[]): string {
    return this.initializer(data, dims, 'float32');
  }

  int64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    // Shapes and axes repeat across layers: one initializer per distinct value.
    const key = `${dims.join('x')}:${values.join(',')}`;
    const cached = this.int64Cache.get(key);
    if (cached) return cached;
    const name = this.initializer(BigInt64Array.from(values, (v) => BigInt(v)), dims, 'int64');
    this.int64Cache.set(key, name);
    return name;
  }

  op(type: string, inputs: readonly string[], attributes: Record<string, OnnxAttribute> = {}): string {
    const output = this.fresh(type);
    this.nodes.push(
      onnx.NodeProto.create({
        opType: type,
        input: [...inputs],
        output: [output],
        name: output,
        attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
      }),
    );
    return output;
  }

  /** Names `value` a graph output (through an Identity when it needs a new name). */
  output(value: string, name: string, dims: readonly OnnxDim[], elemType: ElemType = 'float32'): void {
    const out = value === name ? value : this.rename(value, name);
    this.outputs.push(valueInfo(out, dims, elemType));
  }

  /** The serialised ModelProto. */
  toBytes(): Uint8Array {
    const graph = onnx.GraphProto.create({
      name: this.name,
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs.map((i) => valueInfo(i.name, i.dims, i.elemType)),
      output: this.outputs,
    });
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: 'bayes-peft',
      graph,
    });
    return onnx.ModelProto.encode(model).finish();
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  private rename(value: string, name: string): string {
    this.claim(name);
    this.nodes.push(onnx.NodeProto.create({ opType: 'Identity', input: [value], output: [name], name }));
    return name;
  }

  private initializer(data: Float32Array | BigInt64Array, dims: readonly number[], elemType: ElemType): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (count !== data.length) throw new Error(`onnx constant: ${data.length} values for dims [${dims}]`);
    const name = this.fresh('const');
    this.initializers.push(
      onnx.TensorProto.create({ name, dims: [...dims], dataType: ELEM[elemType], rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }),
    );
    return name;
  }

  private fresh(kind: string): string {
    let name: string;
    do name = `${kind}_${this.counter++}`;
    while (this.names.has(name));
    this.names.add(name);
    return name;
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new Error(`onnx graph ${this.name}: the name '${name}' is already taken`);
    this.names.add(name);
  }
}

function valueInfo(name: string, dims: readonly OnnxDim[], elemType: ElemType): onnx.IValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: ELEM[elemType],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

/** Numbers become INT attributes when integral, FLOAT otherwise (no op we emit takes an integral float attribute). */
function attribute(name: string, value: OnnxAttribute): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    return Number.isInteger(value) && !Object.is(value, -0) ? { name, type: T.INT, i: value } : { name, type: T.FLOAT, f: value };
  }
  return { name, type: T.INTS, ints: [...value] };
}

