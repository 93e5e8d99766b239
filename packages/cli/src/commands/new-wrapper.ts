import * as path from 'node:path';
import { Command } from 'commander';
import { renderWrapperPackage, writeWrapperPackage } from '../scaffold/wrapper';
import { findBayesPeftWorkspace } from '../scaffold/workspace';

/** `bayes-peft new wrapper <name>`: scaffolds a publishable wrapper plugin package. */
export function newCommand(): Command {
  const cmd = new Command('new').description('scaffold a new plugin package');
  cmd
    .command('wrapper <name>')
    .description('a wrapper (UQ method) package: plain LoRA to start from, the conformance test, README, a changeset')
    .option('--dir <path>', 'folder to create (must be empty or absent); default ./bayes-peft-wrapper-<name>')
    .option('--package <npm-name>', 'npm package name; default bayes-peft-wrapper-<name>')
    .option('--description <text>', 'one line for package.json, the README and `bayes-peft plugins`')
    .option('--private', 'mark the package private (an example that is never published)', false)
    .action(async (name: string, opts: { dir?: string; package?: string; description?: string; private: boolean }) => {
      const packageName = opts.package ?? `bayes-peft-wrapper-${name}`;
      const dir = path.resolve(opts.dir ?? packageName.replace(/^@[^/]+\//, ''));
      const workspace = findBayesPeftWorkspace(dir);
      const files = await renderWrapperPackage({
        name,
        packageName,
        description: opts.description,
        dependencies: workspace ? 'workspace' : 'registry',
        private: opts.private,
      });
      const written = await writeWrapperPackage(dir, files);
      const out = (line = '') => process.stdout.write(`${line}\n`);
      out(`created ${packageName} (wrapper '${name}') in ${dir}: ${written.length} files`);
      for (const f of written) out(`  ${path.relative(dir, f)}`);
      out();
      if (workspace) {
        out(`inside the bayes-peft workspace at ${workspace.root}: the bayes-peft packages are workspace:*`);
        if (!workspace.covered) out(`add '${workspace.relative}' to the packages of ${path.join(workspace.root, 'pnpm-workspace.yaml')} first`);
        out(`next: pnpm install && cd ${path.relative(process.cwd(), dir) || '.'} && pnpm run build && pnpm test`);
      } else {
        out(`next: cd ${path.relative(process.cwd(), dir) || '.'} && npm install && npm run build && npm test`);
      }
      out(`then name it in a spec: wrapper: { plugin: ${packageName} }   (docs/writing-a-wrapper.md walks through to a release)`);
    });
  return cmd;
}
