import { describeWrapperConformance } from '@bayes-peft/plugin-testkit';
import plugin from './index';

// The Wrapper contract as the runner relies on it, on a tiny Llama through the real backbone.
// TFB is training-free (trainingFree: true): the suite skips training, stands a seeded
// perturbation in for the trained adapter, and checks calibrate (the beta search on an anchor
// set) alongside predict, save/load, determinism and generate.
describeWrapperConformance({ plugin, options: { iterations: 3, evalSamples: 2, evalSamplesFinal: 3 } });
