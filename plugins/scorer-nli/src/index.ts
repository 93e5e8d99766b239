import { defineJudge } from '@bayes-peft/core';
import { createNliJudge } from './nli-judge';
import { NliOptions } from './options';

export { NliOptions, DEFAULT_NLI_MODEL } from './options';
export { createNliJudge, type NliJudge } from './nli-judge';
export { NliModel, type NliPair, type PairScores, type LoadNliOptions } from './nli-model';
export { locateNliModel, graphCandidates, NLI_REQUIRED_FILES, NLI_OPTIONAL_FILES, type NliModelFiles, type NliModelRef } from './model-files';
export { readLabels, type NliLabels } from './labels';
export { bidirectionalVerdict, type ReferenceScores } from './verdict';
export { PairTokenizer, type PairEncoding } from './pair-tokenizer';
export { longestFirst } from './truncation';
export { releaseIdleNliModels, nliModelCacheState } from './model-cache';
export { NliModelError } from './errors';

// Read at run time: package.json sits outside the compiled sources (changesets bumps it).
const pkg = require('../package.json') as { name: string; version: string };
export const version: string = pkg.version;

export default defineJudge({
  name: 'nli',
  version,
  packageName: pkg.name,
  description:
    "the reference's NLI scorer: bidirectional entailment between the answer and each reference with a Hugging Face NLI cross-encoder exported to ONNX (onnxruntime-node); right when both directions reach the threshold, confidence = their mean; the entailment label read from the model's config; entailment and contradiction probabilities for semantic clustering",
  options: NliOptions,
  create: ({ run }, options) => createNliJudge(run, options),
});
