import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { UserError } from '@bayes-peft/core';
import { indexedJobManifest, ManifestError, manifestYaml } from '@bayes-peft/k8s';
import { planExperiment } from '@bayes-peft/runner';
import { BUILTIN_PLUGINS } from '../builtin-plugins';
import { CLI_SEARCH_PATHS } from '../search-paths';

interface K8sFlags {
  image: string;
  namespace?: string;
  gpus: number;
  parallelism?: number;
  pvc: string;
  name?: string;
  cpu?: string;
  memory?: string;
  retries: number;
  workdir: string;
}

function wholeNumber(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new InvalidArgumentError('a whole number');
  return Number(text);
}

export function submitK8sCommand(): Command {
  return new Command('k8s')
    .description(
      "print a Kubernetes Indexed Job for a spec's runs (completion i runs run i of `experiment --list`, the runs folder on a PersistentVolumeClaim), validated against the Kubernetes API; apply it with kubectl apply -f",
    )
    .argument('<spec>', 'run spec (YAML), as a relative path: the container runs it from --workdir')
    .requiredOption('--image <image>', 'container image with bayes-peft, the spec and what it reads (models, data) at the same relative paths under --workdir')
    .option('--namespace <ns>', 'the Job\'s namespace (default: kubectl\'s)')
    .option('--gpus <n>', 'GPUs per run (nvidia.com/gpu limit; 0 for none)', wholeNumber, 1)
    .option('--parallelism <k>', 'runs at once (default: every run; the cluster queues the rest)', wholeNumber)
    .option('--pvc <name>', "PersistentVolumeClaim (ReadWriteMany) mounted as the spec's output folder", 'bayes-peft-runs')
    .option('--name <name>', "the Job's name (default bayes-peft-<spec name>)")
    .option('--cpu <quantity>', 'CPU request per run, e.g. 8')
    .option('--memory <quantity>', 'memory request and limit per run, e.g. 64Gi')
    .option('--retries <n>', "pod retries per run before its index fails (backoffLimitPerIndex)", wholeNumber, 2)
    .option('--workdir <dir>', "the container's working directory: the spec's relative paths and output folder start there", '/work')
    .action(async (spec: string, opts: K8sFlags) => {
      const { loaded, runs } = await planExperiment(spec, { searchPaths: CLI_SEARCH_PATHS, builtinPlugins: BUILTIN_PLUGINS });
      const outputs = [...new Set(runs.map((r) => r.spec.output))];
      if (outputs.length > 1) throw new UserError(`${loaded.file}: its runs write to ${outputs.join(', ')}; one Job mounts one runs folder: give the spec one output`);
      // The container sees the spec at the path given here, relative to --workdir (a path
      // inside the image or the claim), so an absolute path on this machine would not do.
      if (path.isAbsolute(spec)) throw new UserError(`give the spec as a path relative to the project folder (the container finds it under ${opts.workdir}), not ${spec}`);
      let manifest;
      try {
        manifest = indexedJobManifest({
          spec: spec.split(path.sep).join('/'),
          runs: runs.length,
          image: opts.image,
          specName: runs[0].spec.name,
          ...(opts.name ? { name: opts.name } : {}),
          ...(opts.namespace ? { namespace: opts.namespace } : {}),
          gpus: opts.gpus,
          ...(opts.parallelism !== undefined ? { parallelism: opts.parallelism } : {}),
          pvc: opts.pvc,
          runsPath: outputs[0],
          workingDir: opts.workdir,
          retries: opts.retries,
          ...(opts.cpu ? { cpu: opts.cpu } : {}),
          ...(opts.memory ? { memory: opts.memory } : {}),
        });
      } catch (e) {
        if (e instanceof ManifestError) throw new UserError(e.message);
        throw e;
      }
      const name = (manifest.metadata as { name: string }).name;
      process.stdout.write(
        manifestYaml(manifest, [
          `${runs.length} run${runs.length === 1 ? '' : 's'} of ${spec} as a Kubernetes Indexed Job: completion i runs run i of \`bayes-peft experiment ${spec} --list\`.`,
          `Apply: kubectl apply -f <this file>. Follow: kubectl get job ${name}; bayes-peft status ${spec} where the claim '${opts.pvc}' is mounted.`,
        ]),
      );
    });
}
