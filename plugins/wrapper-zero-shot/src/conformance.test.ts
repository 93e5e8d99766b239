import { describeWrapperConformance } from '@bayes-peft/plugin-testkit';
import plugin from './index';
// The contract checks every wrapper shares (tooling/plugin-testkit): training-free, 3 weight samples per question, the default seven projections.
describeWrapperConformance({ plugin, options: { samples: 3 } });
