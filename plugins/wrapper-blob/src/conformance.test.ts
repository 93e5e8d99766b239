import { describeWrapperConformance } from '@bayes-peft/plugin-testkit';
import plugin from './index';

// The Wrapper contract as the runner relies on it, on a tiny Llama through the real backbone.
// Several weight samples in both phases, so predict's and generate's sample axes are exercised.
describeWrapperConformance({ plugin, options: { evalSamples: 2, evalSamplesFinal: 3 } });
