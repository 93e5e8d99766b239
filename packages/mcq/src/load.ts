import { UserError, type McqExample, type RunContext, type SplitRole } from '@bayes-peft/core';
import { DataFileError, EmptySplitError, loadSplit, RowError, subsetForRole, type SplitRows } from '@bayes-peft/data';
import type { McqDefinition } from './definition';
import type { McqCommonOptions } from './options';

/**
 * The examples of one role: its split read from the options' source (or the definition's hub
 * repo), every row formatted (also those a subset leaves out, so a broken file fails early and
 * loudly), then the role's subset. One subset shuffle per split name, so an anchor drawn from
 * the train split is a prefix of the train subset.
 */
export async function loadMcqExamples(def: McqDefinition, options: McqCommonOptions, role: SplitRole, ctx: RunContext): Promise<McqExample[]> {
  const split = options.splits[role];
  const { rows, files, used } = await loadFirstSplit(def, options, split, ctx);
  const examples: McqExample[] = [];
  rows.forEach((row, index) => {
    if (def.keep && !def.keep.test(row)) return;
    examples.push(def.format(row, { index, split: used }));
  });
  if (!examples.length) {
    throw new EmptySplitError(`split '${used}'${def.config ? ` of config '${def.config}'` : ''} of ${def.name} (${def.keep?.what ?? 'rows'})`, files);
  }
  const picked = subsetForRole(examples, options, role, `${def.subsetKey}/${split}`);
  const where = files.length === 1 ? files[0] : `${files.length} files`;
  ctx.log.info(`dataset: ${def.name} ${role} = split '${used}': ${picked.length} of ${examples.length} examples (${where})`);
  return picked;
}

async function loadFirstSplit(def: McqDefinition, options: McqCommonOptions, split: string, ctx: RunContext): Promise<SplitRows & { used: string }> {
  const candidates = [split, ...(def.splitFallbacks?.(split) ?? [])];
  let firstError: unknown;
  for (const name of candidates) {
    try {
      const got = await loadSplit(
        { source: options.source, repo: def.repo, config: def.config, split: name, baseDir: ctx.specDir },
        { ...ctx.hub, revision: options.revision, log: ctx.log },
      );
      return { ...got, used: name };
    } catch (e) {
      // Only "no such split here" moves on to the next name; bad rows and files fail at once.
      if (!(e instanceof UserError) || e instanceof RowError || e instanceof DataFileError || e instanceof EmptySplitError) throw e;
      firstError ??= e;
    }
  }
  throw firstError;
}
