import { Command } from 'commander';
import { consoleLogger, PLUGIN_KINDS, Rng, UserError, type JudgeItem, type JudgeVerdict, type RunContext } from '@bayes-peft/core';
import { createRunSession } from '@bayes-peft/runner';
import { BUILTIN_PLUGINS, cliPluginRegistry } from '../builtin-plugins';
import { readJudgeItems } from './judge-items';
import { parseJsonObject } from './json-option';
import { parsePluginOptions } from './preview-options';

/** Items per `judge` call: the scorer batches inside; this bounds memory and lets lines appear as they are judged. */
const CHUNK = 512;

interface JudgeCliOptions {
  input: string;
  options: Record<string, unknown>;
  json: boolean;
  offline?: boolean;
}

/** `bayes-peft judge <scorer> --input items.jsonl`: one line per item with the scorer's verdict, confidence and detail. */
export function judgeCommand(): Command {
  return new Command('judge')
    .description('score answers with a judge plugin (string-match, nli, ...): one output line per input item with the verdict, the confidence and the scorer\'s detail')
    .argument('<scorer>', 'judge plugin: short name (string-match, nli), npm package or path')
    .requiredOption('--input <items.jsonl>', 'one JSON object a line: {"question": ..., "candidate": ..., "references": [...]} (question and id optional)')
    .option('--options <json>', "the scorer's options as JSON, e.g. '{\"model\": \"./models/nli\"}' (relative paths from the working directory)", parseJsonObject, {})
    .option('--offline', 'use only the local hub cache (a scorer that loads a model from the hub)')
    .option('--json', 'print each item as one JSON object: the item, correct, confidence, detail', false)
    .action(async (name: string, opts: JudgeCliOptions) => {
      const registry = cliPluginRegistry();
      const otherKind = PLUGIN_KINDS.find((k) => k !== 'judge' && BUILTIN_PLUGINS[k][name] !== undefined);
      if (otherKind && BUILTIN_PLUGINS.judge[name] === undefined) {
        throw new UserError(`'${name}' is a ${otherKind} plugin, not a judge; judge plugins: ${registry.known('judge').join(', ')}`);
      }
      const { plugin } = registry.resolve('judge', name);
      const options = parsePluginOptions(plugin, opts.options);
      const items = await readJudgeItems(opts.input);
      const context: RunContext = { seed: 1, rng: new Rng(1), log: consoleLogger, specDir: process.cwd(), hub: { offline: opts.offline ? true : undefined } };
      const judge = createRunSession({ context, judge: { plugin, options } }).judge();
      let right = 0;
      let confidence = 0;
      try {
        for (let at = 0; at < items.length; at += CHUNK) {
          const part = items.slice(at, at + CHUNK);
          const verdicts = await judge.judge(part);
          if (verdicts.length !== part.length) throw new Error(`scorer '${judge.name}' returned ${verdicts.length} verdicts for ${part.length} items`);
          process.stdout.write(part.map((item, i) => `${opts.json ? jsonLine(item, verdicts[i]) : textLine(item, verdicts[i])}\n`).join(''));
          for (const v of verdicts) {
            right += v.correct ? 1 : 0;
            confidence += v.confidence;
          }
        }
      } finally {
        await judge.dispose?.();
      }
      const n = items.length;
      process.stderr.write(`${judge.name}: ${right} of ${n} correct (${((100 * right) / n).toFixed(1)}%), mean confidence ${(confidence / n).toFixed(4)}\n`);
    });
}

function jsonLine(item: JudgeItem, v: JudgeVerdict): string {
  return JSON.stringify({ id: item.id, question: item.question, candidate: item.candidate, references: item.references, correct: v.correct, confidence: v.confidence, ...(v.detail === undefined ? {} : { detail: v.detail }) });
}

function textLine(item: JudgeItem, v: JudgeVerdict): string {
  return `${v.correct ? 'correct' : 'wrong  '}  ${v.confidence.toFixed(4)}  ${JSON.stringify(item.candidate)} vs ${JSON.stringify(item.references)}${v.detail === undefined ? '' : `  ${v.detail}`}`;
}
