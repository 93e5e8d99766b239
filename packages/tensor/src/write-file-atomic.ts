import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { crashPoint } from '@bayes-peft/env';

/** The temporary files writeFileAtomic leaves when its process dies between write and rename. */
export const ATOMIC_TEMP_FILE = /\.\d+\.\d+\.tmp$/;

/** Readers never see a half-written file: write a temp file beside it, then rename. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await fs.writeFile(tmp, data);
  crashPoint(`write:${path.basename(file)}`);
  await fs.rename(tmp, file);
}
