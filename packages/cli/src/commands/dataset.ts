import { Command } from 'commander';
import { datasetPreviewCommand } from './dataset-preview';

/** `bayes-peft dataset <subcommand>`: look at dataset plugins without a model or a run. */
export function datasetCommand(): Command {
  // addCommand does not pass the program's exitOverride on to nested commands: set it here, so
  // a usage error returns an exit code from main() instead of calling process.exit.
  return new Command('dataset').description('inspect dataset plugins (preview)').exitOverride().addCommand(datasetPreviewCommand().exitOverride());
}
