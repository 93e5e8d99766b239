import { describeWrapperConformance } from '@bayes-peft/plugin-testkit';
import plugin from './index';

// The Wrapper contract as the runner relies on it, on a tiny Llama through the real backbone.
describeWrapperConformance({ plugin });
