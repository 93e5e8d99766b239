import { Command } from 'commander';
import { cliPluginRegistry } from '../builtin-plugins';

export function pluginsCommand(): Command {
  return new Command('plugins')
    .description('list the installed plugins with their kind and version')
    .option('--json', 'one JSON object per plugin', false)
    .action((opts: { json: boolean }) => {
      const registry = cliPluginRegistry();
      const rows = registry.listInstalled().map(({ plugin }) => ({
        kind: plugin.kind,
        name: plugin.name,
        version: plugin.version,
        package: plugin.packageName ?? '',
        description: plugin.description,
      }));
      if (opts.json) {
        for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      const w = (k: keyof (typeof rows)[number]) => Math.max(k.length, ...rows.map((r) => String(r[k]).length));
      const cols = ['kind', 'name', 'version', 'package'] as const;
      process.stdout.write(`${cols.map((c) => c.padEnd(w(c))).join('  ')}\n`);
      for (const r of rows) process.stdout.write(`${cols.map((c) => String(r[c]).padEnd(w(c))).join('  ')}\n`);
    });
}
