import { Command } from 'commander';
import { submitK8sCommand } from './submit-k8s';
import { submitSlurmCommand } from './submit-slurm';

/**
 * `bayes-peft submit <engine> <spec>`: a spec's runs handed to a cluster's scheduler, one task
 * per run, each running `bayes-peft experiment <spec> --index <i>`. One file per engine
 * (submit-<engine>.ts); add an engine's command to ENGINES.
 */
const ENGINES: readonly (() => Command)[] = [submitK8sCommand, submitSlurmCommand];

export function submitCommand(): Command {
  const submit = new Command('submit').description("run a spec's runs on a cluster: one scheduler task per run (see docs/scale-out.md)").exitOverride();
  // addCommand does not pass exitOverride on: set it on each, so a bad option is an exit code, not process.exit.
  for (const engine of ENGINES) submit.addCommand(engine().exitOverride());
  return submit;
}
