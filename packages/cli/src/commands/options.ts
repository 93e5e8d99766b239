import { Command } from 'commander';
import { envMarkdown, LoraConfigSchema, UserError, PLUGIN_KINDS, type PluginKind } from '@bayes-peft/core';
import { EvalSchema, GenerationSchema, HubSchema, RunSpecSchema, SemanticSchema, TrainSchema, describeOptions, optionsMarkdown } from '@bayes-peft/runner';
import { z } from 'zod';
import { cliPluginRegistry } from '../builtin-plugins';
import { ENVIRONMENT_INTRO, RUN_SPEC_INTRO } from './run-spec-intro';

export function optionsCommand(): Command {
  return new Command('options')
    .description("show a plugin's options (or the run spec's own sections) with types and defaults")
    .argument('[plugin]', 'plugin short name or package (e.g. blob, arc, causal-lm)')
    .option('--run-spec-doc', 'print the whole run-spec reference (docs/run-spec.md)', false)
    .action((name: string | undefined, opts: { runSpecDoc: boolean }) => {
      if (opts.runSpecDoc) {
        process.stdout.write(runSpecDoc());
        return;
      }
      if (!name) {
        process.stdout.write(coreSections());
        return;
      }
      const registry = cliPluginRegistry();
      for (const kind of PLUGIN_KINDS) {
        if (registry.known(kind).includes(name) || kind === guessKind(name)) {
          const { plugin } = registry.resolve(kind, name);
          process.stdout.write(`${plugin.kind} plugin '${plugin.name}' ${plugin.version} (${plugin.packageName ?? ''})\n${plugin.description}\n\n`);
          process.stdout.write(optionsMarkdown(describeOptions(plugin.options)));
          return;
        }
      }
      throw new UserError(`no installed plugin named '${name}' (see: bayes-peft plugins)`);
    });
}

function guessKind(name: string): PluginKind | null {
  const m = /(wrapper|dataset|backbone|judge)-/.exec(name);
  return (m?.[1] as PluginKind) ?? null;
}

function coreSections(): string {
  const top = z.object({
    name: RunSpecSchema.shape.name,
    seed: RunSpecSchema.shape.seed,
    backend: RunSpecSchema.shape.backend,
    output: RunSpecSchema.shape.output,
    adapter: RunSpecSchema.shape.adapter,
    scorer: RunSpecSchema.shape.scorer,
  });
  const sections: [string, z.ZodType][] = [
    ['top level', top],
    ['train:', TrainSchema],
    ['eval:', EvalSchema],
    ['generation: (open-ended datasets)', GenerationSchema],
    ['semantic: (open-ended datasets)', SemanticSchema],
    ['lora:', LoraConfigSchema],
    ['hub:', HubSchema],
  ];
  return sections.map(([title, schema]) => `### ${title}\n\n${optionsMarkdown(describeOptions(schema))}`).join('\n');
}

/** docs/run-spec.md: generated, so it always lists every option with its default. */
export function runSpecDoc(): string {
  const registry = cliPluginRegistry();
  const parts = [RUN_SPEC_INTRO, ENVIRONMENT_INTRO, envMarkdown(), '## The spec\'s own sections\n', coreSections(), '\n## Plugin options\n'];
  parts.push('Each plugin validates its `options:` with its own schema; unknown keys are errors.\n');
  for (const { plugin } of registry.listInstalled()) {
    parts.push(`\n### ${plugin.kind} \`${plugin.name}\` (${plugin.packageName ?? ''})\n\n${plugin.description}\n\n${optionsMarkdown(describeOptions(plugin.options))}`);
  }
  return parts.join('\n').replace(/\n{3,}/g, '\n\n');
}
