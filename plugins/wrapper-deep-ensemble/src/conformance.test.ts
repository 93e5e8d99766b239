import { describeWrapperConformance } from '@bayes-peft/plugin-testkit';
import plugin from './index';

// The contract checks every wrapper shares (tooling/plugin-testkit), with a 2-member ensemble.
describeWrapperConformance({ plugin, options: { members: 2 }, lora: { r: 4, alpha: 8 } });
