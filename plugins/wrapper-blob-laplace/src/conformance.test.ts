import { describeWrapperConformance } from '@bayes-peft/plugin-testkit';
import plugin from './index';

// The Wrapper contract as the runner relies on it, on a tiny Llama through the real backbone.
describeWrapperConformance({ plugin, options: { evalSamples: 2, evalSamplesFinal: 3 } });
describeWrapperConformance({ plugin, options: { inferenceNotSample: true }, name: 'blob-laplace (posterior mean, N=0) wrapper conformance' });
