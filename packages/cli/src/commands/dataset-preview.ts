import { promises as fs } from 'node:fs';
import { Command, Option } from 'commander';
import { chatTemplateContext, consoleLogger, PLUGIN_KINDS, Rng, UserError, type Dataset, type DatasetLoadContext, type RunContext, type SplitRole } from '@bayes-peft/core';
import { createRunSession } from '@bayes-peft/runner';
import { HfTokenizer } from '@bayes-peft/backbone-causal-lm';
import { BUILTIN_PLUGINS, cliPluginRegistry } from '../builtin-plugins';
import { parsePositiveInt } from './model-options';
import { parsePluginOptions, planPreview, ROLES } from './preview-options';
import { previewExamples, previewJson, previewText } from './preview-output';

interface PreviewCliOptions {
  config?: string;
  split?: string;
  role?: SplitRole;
  source?: string;
  option: string[];
  n: number;
  json: boolean;
  tokenizer?: string;
  offline?: boolean;
}

/** `bayes-peft dataset preview <plugin>`: load one split the way a run does and show the first prompts. */
export function datasetPreviewCommand(): Command {
  return new Command('preview')
    .description('load a dataset plugin as a run does; print its row count and the first formatted prompts with their labels or references')
    .argument('<plugin>', 'dataset plugin: short name (arc, triviaqa, ...), npm package or path')
    .option('--config <name>', "the plugin's config/subset option (arc: subset, mmlu: group, winogrande: size, openbookqa/triviaqa: config)")
    .option('--split <name>', 'split name for the role (plugins with a splits option), else a role: train, test, anchor')
    .addOption(new Option('--role <role>', 'which role to load (default test)').choices([...ROLES]))
    .option('--source <path|id>', "the plugin's source option: a local file or folder, or a hub dataset id")
    .option('--option <key=value>', 'any other plugin option (dotted keys nest; repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--n <count>', 'how many examples to print', parsePositiveInt('--n'), 3)
    .option('--tokenizer <dir>', "a local model folder whose tokenizer's chat template formats the prompts (datasets that use one, e.g. truthfulqa)")
    .option('--offline', 'use only the local hub cache')
    .option('--json', 'print {"rows": N, "examples": [...]} only', false)
    .action(async (name: string, opts: PreviewCliOptions) => {
      const registry = cliPluginRegistry();
      const otherKind = PLUGIN_KINDS.find((k) => k !== 'dataset' && BUILTIN_PLUGINS[k][name] !== undefined);
      if (otherKind && BUILTIN_PLUGINS.dataset[name] === undefined) {
        throw new UserError(`'${name}' is a ${otherKind} plugin, not a dataset; dataset plugins: ${registry.known('dataset').join(', ')}`);
      }
      const { plugin } = registry.resolve('dataset', name);
      const plan = planPreview(plugin, opts);
      const options = parsePluginOptions(plugin, plan.options);
      const ctx: RunContext = { seed: 1, rng: new Rng(1), log: consoleLogger, specDir: process.cwd(), hub: { offline: opts.offline ? true : undefined } };
      const dataset: Dataset = createRunSession({ context: ctx, dataset: { plugin, options } }).dataset();
      const examples = await dataset.load(plan.role, await loadContext(opts.tokenizer));
      const shown = previewExamples(dataset, examples.slice(0, opts.n));
      process.stdout.write(opts.json ? previewJson(examples.length, shown) : previewText(dataset, plugin.name, plan.role, examples.length, shown));
    });
}

async function loadContext(tokenizerDir: string | undefined): Promise<DatasetLoadContext> {
  if (tokenizerDir === undefined) return {};
  const stat = await fs.stat(tokenizerDir).catch(() => null);
  if (!stat?.isDirectory()) throw new UserError(`--tokenizer: '${tokenizerDir}' is not a folder (give a local model folder with tokenizer.json)`);
  return chatTemplateContext(await HfTokenizer.fromDir(tokenizerDir));
}
