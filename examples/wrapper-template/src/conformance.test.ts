import { describeWrapperConformance } from '@bayes-peft/plugin-testkit';
import plugin from './index';

// The Wrapper contract as `bayes-peft experiment` relies on it (made by its create() in a run session,
// training without tensor leaks, predict and generate shapes, save/load, determinism), checked
// on a tiny Llama through the real backbone. Pass the options your method's runs will use.
describeWrapperConformance({ plugin, options: { labelSmoothing: 0.1 } });
