/** What a job carries: enough for a worker on another machine (same shared folders) to run the run. */
export interface RunJobData {
  /** The spec's absolute path (on the shared filesystem every worker mounts at the same place). */
  readonly spec: string;
  /** The run's id in the spec's plan (`bayes-peft experiment spec --run <id>`). */
  readonly run: string;
  /** The folder enqueue ran in: relative paths in the spec (output:, model paths) resolve from there. */
  readonly cwd: string;
  /** The run's folder, where the worker writes its log (worker.log). */
  readonly dir: string;
}

/** The job's data checked (a job added by something else must not make a worker run nonsense). */
export function parseJobData(data: unknown): RunJobData {
  const d = (data ?? {}) as Record<string, unknown>;
  for (const key of ['spec', 'run', 'cwd', 'dir'] as const) {
    if (typeof d[key] !== 'string' || !d[key]) throw new Error(`job data has no '${key}' (expected {spec, run, cwd, dir}, as bayes-peft enqueue adds)`);
  }
  return { spec: d.spec as string, run: d.run as string, cwd: d.cwd as string, dir: d.dir as string };
}
