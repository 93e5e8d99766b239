import { describeWrapperConformance } from '@bayes-peft/plugin-testkit';
import plugin from './index';

// The contract checks every wrapper shares (tooling/plugin-testkit): 2 dropout passes in intermediate evaluations, 3 in the final.
describeWrapperConformance({ plugin, options: { dropout: 0.1, evalSamples: 2, evalSamplesFinal: 3 }, lora: { r: 4, alpha: 8 } });
