export {
  isOnnxAdapter,
  onnxUnitAxes,
  type OnnxAdapter,
  type OnnxAttribute,
  type OnnxDim,
  type OnnxFeed,
  type OnnxGraphBuilder,
  type OnnxSiteInfo,
} from './adapter';
export { GraphBuilder, IR_VERSION, ONNX_TYPE, OPSET, type ElemType, type GraphInput } from './graph-builder';
export { loadOnnxRuntime, onnxRuntimeUnavailable, ortThreads, OnnxSession, ORT_NOT_INSTALLED, ORT_THREADS_ENV, type SessionFeed, type SessionOutput } from './runtime';
