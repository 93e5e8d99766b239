/**
 * A run matrix as a Kubernetes Indexed Job: one completion per run, each pod running
 * `bayes-peft experiment <spec> --index $(JOB_COMPLETION_INDEX)`. The Job controller gives each
 * pod of an Indexed Job its index in the JOB_COMPLETION_INDEX environment variable, and
 * Kubernetes expands `$(VAR)` in a container's command from its environment, so the index
 * reaches --index with no shell in the image. Every pod mounts one PersistentVolumeClaim as the
 * runs folder (ReadWriteMany: NFS, CephFS, Lustre...), where run.lock, checkpoints and results
 * live; `bayes-peft status` and `collect` read it from any machine that mounts it.
 */
import { Job } from 'kubernetes-models/batch/v1/Job';
import { z } from 'zod';

/** A Kubernetes name that is a DNS-1123 label (Job names must be one for their pods' hostnames). */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const label = (what: string) => z.string().max(63, `${what} has at most 63 characters`).regex(DNS_LABEL, `${what} must be lower-case letters, digits and '-', starting and ending with a letter or digit`);
/** Quantities as Kubernetes writes them: 4, 500m, 16Gi, 1.5. */
const quantity = z.string().regex(/^\d+(\.\d+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/, 'is not a Kubernetes quantity (e.g. 4, 500m, 16Gi)');

export const IndexedJobOptionsSchema = z.object({
  /** The run spec as the container sees it (relative paths from `workingDir`). */
  spec: z.string().min(1),
  /** The spec's run count: the Job's completions (`bayes-peft experiment <spec> --list | wc -l`). */
  runs: z.number().int().min(1),
  image: z.string().min(1),
  /** The Job's name; default from `specName`: bayes-peft-<spec name>. */
  name: label('the Job name').optional(),
  /** The spec's `name:`, for the default Job name and a label. */
  specName: z.string().optional(),
  namespace: label('the namespace').optional(),
  /** GPUs per run (nvidia.com/gpu); 0 for none. */
  gpus: z.number().int().min(0).default(1),
  /** Runs at once; default every run (the cluster queues what does not fit). */
  parallelism: z.number().int().min(1).optional(),
  /** The PersistentVolumeClaim mounted as the runs folder. */
  pvc: z.string().min(1).max(253).regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'the PVC name must be a DNS-1123 subdomain').default('bayes-peft-runs'),
  /** The spec's `output:` (the runs folder), where the claim is mounted: relative to `workingDir` or absolute. */
  runsPath: z.string().min(1).default('runs'),
  /** The container's working directory (where relative spec paths, and `output:`, start). */
  workingDir: z.string().startsWith('/', 'the working directory is an absolute path').default('/work'),
  /** The bayes-peft executable in the image. */
  bin: z.array(z.string().min(1)).min(1).default(['bayes-peft']),
  /** Retries of one run's pod before its index counts as failed (backoffLimitPerIndex: one bad run does not fail the others). */
  retries: z.number().int().min(0).default(2),
  /** Time between SIGTERM and SIGKILL: a preempted run checkpoints after its current step, which must fit in it. */
  gracePeriodSeconds: z.number().int().min(0).default(120),
  cpu: quantity.optional(),
  memory: quantity.optional(),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
});

export type IndexedJobOptions = z.input<typeof IndexedJobOptionsSchema>;

/** Options or a manifest Kubernetes would refuse: the message names each problem. */
export class ManifestError extends Error {
  override readonly name = 'ManifestError';
}

/** `bayes-peft-<spec name>` as a DNS label short enough that `<job>-<index>` hostnames stay within 63. */
export function defaultJobName(specName: string | undefined): string {
  const base = `bayes-peft-${(specName ?? 'runs').toLowerCase().replace(/[^a-z0-9-]+/g, '-')}`.slice(0, 50);
  return base.replace(/-+$/, '') || 'bayes-peft';
}

/**
 * The Indexed Job of a spec's runs, validated against the Kubernetes API's schema (a
 * ManifestError otherwise). Each pod runs one run with --wait: a pod restarted after its node
 * failed finds the dead pod's run.lock, waits until it goes stale and resumes the run from its
 * checkpoint, where without --wait it would skip the run and count its index as complete.
 */
export function indexedJobManifest(options: IndexedJobOptions): Record<string, unknown> {
  const parsed = IndexedJobOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new ManifestError(`invalid Kubernetes Job options: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`).join('; ')}`);
  }
  const o = parsed.data;
  const name = o.name ?? defaultJobName(o.specName);
  const labels = { 'app.kubernetes.io/name': 'bayes-peft', 'app.kubernetes.io/instance': name };
  const runsMount = o.runsPath.startsWith('/') ? o.runsPath : `${o.workingDir.replace(/\/+$/, '')}/${o.runsPath.replace(/^\.\/|\/+$/g, '')}`;
  const limits: Record<string, string | number> = {};
  const requests: Record<string, string | number> = {};
  if (o.gpus > 0) limits['nvidia.com/gpu'] = o.gpus;
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) {
    requests.memory = o.memory;
    limits.memory = o.memory;
  }
  const manifest = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, ...(o.namespace ? { namespace: o.namespace } : {}), labels, annotations: { 'bayes-peft/spec': o.spec, 'bayes-peft/runs': String(o.runs) } },
    spec: {
      completionMode: 'Indexed',
      completions: o.runs,
      parallelism: Math.min(o.parallelism ?? o.runs, o.runs),
      backoffLimitPerIndex: o.retries,
      template: {
        metadata: { labels },
        spec: {
          // backoffLimitPerIndex needs Never: a failed pod is replaced (and resumes from the checkpoint).
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: o.gracePeriodSeconds,
          containers: [
            {
              name: 'run',
              image: o.image,
              workingDir: o.workingDir,
              command: [...o.bin, 'experiment', o.spec, '--index', '$(JOB_COMPLETION_INDEX)', '--wait', '--no-progress'],
              ...(Object.keys(o.env).length ? { env: Object.entries(o.env).map(([k, value]) => ({ name: k, value })) } : {}),
              ...(Object.keys(limits).length || Object.keys(requests).length
                ? { resources: { ...(Object.keys(requests).length ? { requests } : {}), ...(Object.keys(limits).length ? { limits } : {}) } }
                : {}),
              volumeMounts: [{ name: 'runs', mountPath: runsMount }],
            },
          ],
          volumes: [{ name: 'runs', persistentVolumeClaim: { claimName: o.pvc } }],
        },
      },
    },
  };
  return validateJob(manifest);
}

/**
 * A Job manifest checked against the Kubernetes API's schema (kubernetes-models): the plain
 * object back, or a ManifestError naming every problem (`spec/completions must be integer`).
 */
export function validateJob(manifest: unknown): Record<string, unknown> {
  if (!manifest || typeof manifest !== 'object') throw new ManifestError('a Job manifest is an object');
  const job = new Job(manifest as ConstructorParameters<typeof Job>[0]);
  try {
    job.validate();
  } catch (e) {
    const errors = (e as { errors?: { instancePath?: string; message?: string }[] }).errors;
    const detail = errors?.length ? errors.map((x) => `${x.instancePath || '/'} ${x.message ?? ''}`.trim()).join('; ') : (e as Error).message;
    throw new ManifestError(`the Job manifest does not match the Kubernetes API: ${detail}`);
  }
  return job.toJSON() as Record<string, unknown>;
}
