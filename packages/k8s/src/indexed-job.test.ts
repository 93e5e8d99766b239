import { parse } from 'yaml';
import { defaultJobName, indexedJobManifest, ManifestError, validateJob } from './index';
import { manifestYaml } from './manifest-yaml';

const base = { spec: 'examples/paper-llama2.yaml', runs: 90, image: 'ghcr.io/lab/bayes-peft:0.1.0', specName: 'paper-llama2' };

type Container = { command: string[]; workingDir: string; resources?: { limits?: Record<string, unknown>; requests?: Record<string, unknown> }; volumeMounts: { name: string; mountPath: string }[]; env?: { name: string; value: string }[] };
type JobLike = {
  metadata: { name: string; namespace?: string };
  spec: { completionMode: string; completions: number; parallelism: number; backoffLimitPerIndex: number; template: { spec: { restartPolicy: string; containers: Container[]; volumes: { name: string; persistentVolumeClaim: { claimName: string } }[] } } };
};

describe('indexedJobManifest', () => {
  it('an Indexed Job with a completion per run, the completion index as --index, the runs folder on a PVC', () => {
    const job = indexedJobManifest({ ...base, namespace: 'ml', gpus: 2, parallelism: 8, pvc: 'lab-runs', memory: '32Gi' }) as unknown as JobLike;
    expect(job.metadata).toMatchObject({ name: 'bayes-peft-paper-llama2', namespace: 'ml' });
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 90, parallelism: 8, backoffLimitPerIndex: 2 });
    const pod = job.spec.template.spec;
    expect(pod.restartPolicy).toBe('Never');
    const [container] = pod.containers;
    expect(container.command).toEqual(['bayes-peft', 'experiment', 'examples/paper-llama2.yaml', '--index', '$(JOB_COMPLETION_INDEX)', '--wait', '--no-progress']);
    expect(container.resources).toEqual({ requests: { memory: '32Gi' }, limits: { 'nvidia.com/gpu': 2, memory: '32Gi' } });
    expect(pod.volumes).toEqual([{ name: 'runs', persistentVolumeClaim: { claimName: 'lab-runs' } }]);
    // The spec's output folder (runs, relative to the working directory) is where the claim goes.
    expect(container.volumeMounts).toEqual([{ name: 'runs', mountPath: '/work/runs' }]);
    // What it returns passes the API schema again.
    expect(() => validateJob(job)).not.toThrow();
  });

  it('defaults: one GPU, every run at once, the default claim; no GPU limit with --gpus 0; an absolute runs path as is', () => {
    const job = indexedJobManifest(base) as unknown as JobLike;
    expect(job.spec.parallelism).toBe(90);
    expect(job.spec.template.spec.containers[0].resources).toEqual({ limits: { 'nvidia.com/gpu': 1 } });
    expect(job.spec.template.spec.volumes[0].persistentVolumeClaim.claimName).toBe('bayes-peft-runs');
    const cpu = indexedJobManifest({ ...base, gpus: 0, runsPath: '/mnt/lustre/runs', parallelism: 200, env: { BAYES_PEFT_THREADS: '4' } }) as unknown as JobLike;
    const container = cpu.spec.template.spec.containers[0];
    expect(container.resources).toBeUndefined();
    expect(container.volumeMounts[0].mountPath).toBe('/mnt/lustre/runs');
    expect(container.env).toEqual([{ name: 'BAYES_PEFT_THREADS', value: '4' }]);
    // Never more pods at once than runs.
    expect(cpu.spec.parallelism).toBe(90);
  });

  it('refuses options Kubernetes would refuse, naming them', () => {
    expect(() => indexedJobManifest({ ...base, name: 'Paper_Llama' })).toThrow(/name: the Job name must be lower-case letters/);
    expect(() => indexedJobManifest({ ...base, runs: 0 })).toThrow(ManifestError);
    expect(() => indexedJobManifest({ ...base, memory: '32 GB' })).toThrow(/memory: is not a Kubernetes quantity/);
    expect(() => indexedJobManifest({ ...base, runs: '90' as unknown as number })).toThrow(/runs: /);
  });

  it('the Kubernetes schema rejects a wrong type: completions as a string, a container without an image', () => {
    const job = indexedJobManifest(base) as unknown as JobLike;
    const wrong = { ...job, spec: { ...job.spec, completions: '90' } };
    expect(() => validateJob(wrong)).toThrow(new ManifestError('the Job manifest does not match the Kubernetes API: /spec/completions must be integer'));
    const noImage = JSON.parse(JSON.stringify(job));
    delete noImage.spec.template.spec.containers[0].image;
    noImage.spec.template.spec.containers[0].name = 7;
    expect(() => validateJob(noImage)).toThrow(/\/spec\/template\/spec\/containers\/0\/name must be string/);
  });

  it('a default Job name is a DNS label short enough for its pods', () => {
    expect(defaultJobName('Paper LLaMA 2 / ARC')).toBe('bayes-peft-paper-llama-2-arc');
    expect(defaultJobName('x'.repeat(80))).toHaveLength(50);
    expect(defaultJobName(undefined)).toBe('bayes-peft-runs');
  });

  it('prints as YAML kubectl reads back to the same object, after its comments', () => {
    const job = indexedJobManifest(base);
    const text = manifestYaml(job, ['90 runs of examples/paper-llama2.yaml']);
    expect(text.startsWith('# 90 runs of examples/paper-llama2.yaml\napiVersion: batch/v1\nkind: Job\n')).toBe(true);
    expect(parse(text)).toEqual(job);
  });
});
