import plugin from './plugin';

export default plugin;
export { CausalLmOptions, CausalLmLoader } from './plugin';
export { loadCausalLm, type LoadCausalLmOptions } from './load';
export { CausalLm, type KvCache, type DecoderInput } from './model';
export { parseConfig, readConfig, SUPPORTED_MODEL_TYPES, type CausalLmConfig, type ModelType, type RopeScaling } from './config';
export { HfTokenizer, type SpecialTokenFallback } from './tokenizer';
export { encodeTexts, leftPad, truncateLeft, unpad, batchToTensors, type EncodeOptions } from './encode';
export { inverseFrequencies, RopeTables, applyRope } from './rope';
export { attend, causalBias, hostBias, MASK_VALUE } from './attention';
export { Linear } from './linear';
export { rmsNorm } from './norm';
export { pickToken, logProbAt, argmax } from './sampling';
export { loadWeights, type ModelWeights } from './weights';
export { ModelLoadError } from './errors';
