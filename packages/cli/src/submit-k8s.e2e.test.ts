import * as path from 'node:path';
import { validateJob } from '@bayes-peft/k8s';
import { parse } from 'yaml';
import { runCli } from './cli.test-support';

// `bayes-peft submit k8s` on the paper's 90-run spec: YAML that parses back to an Indexed Job
// passing the Kubernetes API's schema, a completion per run, the run index from the completion
// index. Run from the project folder, as a user would (the spec's path goes into the manifest).
describe('bayes-peft submit k8s', () => {
  const root = path.resolve(__dirname, '..', '..', '..');
  let cwd: string;

  beforeAll(() => {
    cwd = process.cwd();
    process.chdir(root);
  });

  afterAll(() => process.chdir(cwd));

  it('prints a valid Indexed Job with one completion per run of the spec', async () => {
    const res = await runCli('submit', 'k8s', 'examples/paper-llama2.yaml', '--image', 'ghcr.io/lab/bayes-peft:0.1.0', '--namespace', 'ml', '--gpus', '1', '--parallelism', '16', '--pvc', 'lab-runs');
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^# 90 runs of examples\/paper-llama2\.yaml as a Kubernetes Indexed Job/);
    const job = parse(res.stdout);
    expect(() => validateJob(job)).not.toThrow();
    expect(job.metadata).toMatchObject({ name: 'bayes-peft-paper-llama2', namespace: 'ml' });
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 90, parallelism: 16 });
    const [container] = job.spec.template.spec.containers;
    expect(container.command).toEqual(['bayes-peft', 'experiment', 'examples/paper-llama2.yaml', '--index', '$(JOB_COMPLETION_INDEX)', '--wait', '--no-progress']);
    expect(container.resources.limits).toEqual({ 'nvidia.com/gpu': 1 });
    // paper-llama2.yaml writes to runs/ (the default output) under the working directory.
    expect(container.volumeMounts).toEqual([{ name: 'runs', mountPath: '/work/runs' }]);
    expect(job.spec.template.spec.volumes).toEqual([{ name: 'runs', persistentVolumeClaim: { claimName: 'lab-runs' } }]);
  });

  it('refuses what Kubernetes or the container could not use, saying why', async () => {
    const name = await runCli('submit', 'k8s', 'examples/quickstart.yaml', '--image', 'x', '--name', 'My_Job');
    expect(name.code).toBe(1);
    expect(name.stderr).toMatch(/^error: invalid Kubernetes Job options: name: the Job name must be lower-case letters/);
    const absolute = await runCli('submit', 'k8s', path.join(root, 'examples', 'quickstart.yaml'), '--image', 'x');
    expect(absolute.stderr).toMatch(/give the spec as a path relative to the project folder/);
    const gpus = await runCli('submit', 'k8s', 'examples/quickstart.yaml', '--image', 'x', '--gpus', 'two');
    expect(gpus.code).not.toBe(0);
    expect(gpus.stderr).toMatch(/option '--gpus <n>' argument 'two' is invalid/);
    const image = await runCli('submit', 'k8s', 'examples/quickstart.yaml');
    expect(image.code).not.toBe(0);
    expect(image.stderr).toMatch(/required option '--image <image>' not specified/);
  });
});
