import { Command, CommanderError } from 'commander';
import { checkEnv, UserError } from '@bayes-peft/core';
import { experimentCommand } from './commands/experiment';
import { validateCommand } from './commands/validate';
import { pluginsCommand } from './commands/plugins';
import { logitsCommand } from './commands/logits';
import { generateCommand } from './commands/generate';
import { judgeCommand } from './commands/judge';
import { optionsCommand } from './commands/options';
import { newCommand } from './commands/new-wrapper';
import { datasetCommand } from './commands/dataset';
import { rescoreCommand } from './commands/rescore';
import { statusCommand } from './commands/status';
import { collectCommand } from './commands/collect';
import { submitCommand } from './commands/submit';
import { enqueueCommand } from './commands/enqueue';
import { workerCommand } from './commands/worker';
import { reportCommand } from './commands/report';

const { version } = require('../package.json') as { version: string };

export function buildProgram(): Command {
  const program = new Command('bayes-peft')
    .description('Bayesian uncertainty for LoRA fine-tuned LLMs: train, sample, calibrate')
    .version(version)
    .exitOverride()
    .showHelpAfterError();
  program.addCommand(experimentCommand());
  program.addCommand(validateCommand());
  program.addCommand(pluginsCommand());
  program.addCommand(logitsCommand());
  program.addCommand(generateCommand());
  program.addCommand(judgeCommand());
  program.addCommand(optionsCommand());
  program.addCommand(newCommand());
  program.addCommand(datasetCommand());
  program.addCommand(rescoreCommand());
  program.addCommand(statusCommand());
  program.addCommand(collectCommand());
  program.addCommand(submitCommand());
  program.addCommand(enqueueCommand());
  program.addCommand(workerCommand());
  program.addCommand(reportCommand());
  return program;
}

/** Runs the CLI; resolves to the exit code. A user error prints its message alone. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    // Every variable a run reads, validated before any work: a bad one is an error naming it.
    checkEnv();
    await buildProgram().parseAsync([...argv]);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (e instanceof UserError || ['SafetensorsError', 'EnvError'].includes((e as Error)?.name)) {
      process.stderr.write(`error: ${(e as Error).message}\n`);
      return 1;
    }
    process.stderr.write(`error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}
