import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';

/** What produced a run: package versions, backend, seed, machine. */
export async function environmentInfo(options: { backend: string; backendReasons?: readonly string[]; seed: number; packages: readonly string[]; searchPaths: readonly string[] }) {
  const versions: Record<string, string> = {};
  for (const name of [...new Set(['@tensorflow/tfjs-core', ...options.packages])]) {
    versions[name] = await packageVersion(name, options.searchPaths);
  }
  return {
    seed: options.seed,
    backend: options.backend,
    backendNotes: options.backendReasons ?? [],
    packages: versions,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown'}`,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    started: new Date().toISOString(),
  };
}

async function packageVersion(name: string, searchPaths: readonly string[]): Promise<string> {
  for (const base of searchPaths) {
    // Walk up node_modules folders: resolving `<name>/package.json` fails for packages whose
    // exports map hides it.
    let dir = base;
    for (;;) {
      try {
        const pkg = JSON.parse(await fs.readFile(path.join(dir, 'node_modules', name, 'package.json'), 'utf8'));
        return String(pkg.version);
      } catch {
        const up = path.dirname(dir);
        if (up === dir) break;
        dir = up;
      }
    }
  }
  try {
    return String(require(`${name}/package.json`).version);
  } catch {
    return 'unknown';
  }
}
