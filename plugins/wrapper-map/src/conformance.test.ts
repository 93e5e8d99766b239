import { describeWrapperConformance } from '@bayes-peft/plugin-testkit';
import plugin from './index';

// The contract checks every wrapper shares (tooling/plugin-testkit), with the Gaussian prior on.
describeWrapperConformance({ plugin, options: { priorStd: 1 }, lora: { r: 4, alpha: 8 } });
