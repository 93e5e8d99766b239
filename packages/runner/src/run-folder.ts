import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '@bayes-peft/tensor';

export const RUN_FILES = {
  spec: 'spec.resolved.yaml',
  env: 'env.json',
  metrics: 'metrics.jsonl',
  results: 'results.json',
  predictions: 'predictions.jsonl',
  /** Open-ended runs: every sampled answer, written before scoring (see open-task.ts). */
  generations: 'generations.jsonl',
  /** The fingerprint of the settings generations.jsonl was made under. */
  generationsKey: 'generations.key',
  status: 'status.json',
  adapter: 'adapter',
} as const;

export type RunState = 'running' | 'interrupted' | 'failed' | 'complete';

/**
 * One run's folder. Every file a reader may take as final is written atomically; results.json
 * is written last, so a folder without it is, by construction, not a finished run.
 */
export class RunFolder {
  constructor(readonly dir: string) {}

  static async create(dir: string): Promise<RunFolder> {
    await fs.mkdir(dir, { recursive: true });
    return new RunFolder(dir);
  }

  file(name: string): string {
    return path.join(this.dir, name);
  }

  get adapterDir(): string {
    return this.file(RUN_FILES.adapter);
  }

  async isComplete(): Promise<boolean> {
    try {
      const status = JSON.parse(await fs.readFile(this.file(RUN_FILES.status), 'utf8'));
      await fs.access(this.file(RUN_FILES.results));
      return status.state === 'complete';
    } catch {
      return false;
    }
  }

  async writeText(name: string, text: string): Promise<void> {
    await writeFileAtomic(this.file(name), text);
  }

  async writeJson(name: string, value: unknown): Promise<void> {
    await writeFileAtomic(this.file(name), `${JSON.stringify(value, null, 2)}\n`);
  }

  async writeJsonl(name: string, rows: readonly unknown[]): Promise<void> {
    await writeFileAtomic(this.file(name), rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''));
  }

  /** Appends one line; a crash loses at most the line being written, never earlier ones. */
  async appendJsonl(name: string, row: unknown): Promise<void> {
    await fs.appendFile(this.file(name), `${JSON.stringify(row)}\n`);
  }

  async setState(state: RunState, extra: Record<string, unknown> = {}): Promise<void> {
    await this.writeJson(RUN_FILES.status, { state, updated: new Date().toISOString(), ...extra });
  }

  /**
   * Clears the files of an earlier, unfinished attempt (keeps nothing that could look final).
   * Generations stay unless `generations` is true: they are reused only under the same
   * fingerprint (open-task.ts), and generating is the slow part of an open-ended run.
   */
  async reset(options: { generations?: boolean } = {}): Promise<void> {
    const names: string[] = [RUN_FILES.results, RUN_FILES.predictions, RUN_FILES.metrics, RUN_FILES.status];
    if (options.generations) names.push(RUN_FILES.generations, RUN_FILES.generationsKey);
    for (const name of names) await fs.rm(this.file(name), { force: true });
  }
}
