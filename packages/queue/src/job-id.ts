import { createHash } from 'node:crypto';
import * as path from 'node:path';

/**
 * The job id of one run of a spec: the spec's file name and a hash of its absolute path, then the
 * run id (`methods-3f2a9c1e/mle-toy-seed1`). BullMQ adds no job whose id it already holds, so
 * enqueuing a spec twice adds nothing; the prefix keeps two specs whose runs share ids (every
 * spec has an `mle-toy-seed1`) from taking each other's place. BullMQ refuses ids with ':' and
 * ids that are integers; neither can come out of this.
 */
export function runJobId(specFile: string, runId: string): string {
  const abs = path.resolve(specFile);
  const hash = createHash('sha256').update(abs).digest('hex').slice(0, 8);
  const base = path.basename(abs).replace(/\.ya?ml$/i, '').replace(/[^\w.-]+/g, '_');
  return `${base}-${hash}/${runId.replace(/:/g, '_')}`;
}
