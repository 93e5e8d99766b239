import { Command } from 'commander';
import { runStatus, statusCounts, type RunStatus } from '@bayes-peft/runner';
import { specRuns } from './spec-runs';

export function statusCommand(): Command {
  // exitOverride: a bad option is a CommanderError main() turns into the exit code (addCommand does not pass the program's on).
  return new Command('status')
    .exitOverride()
    .description("where each run of a spec stands (done, running, failed, interrupted, pending), read from the run folders alone: works for runs on any machine sharing the runs folder, without the scheduler's accounting")
    .argument('<spec>', 'run spec (YAML)')
    .option('--json', 'one JSON line per run ({index, id, dir, steps, state, error?, holder?, updated?, step?, checkpointStep?}) instead of the table', false)
    .action(async (spec: string, opts: { json: boolean }) => {
      const runs = await specRuns(spec);
      const rows = [];
      for (const run of runs) rows.push({ ...run, ...(await runStatus(run.dir)) });
      if (opts.json) {
        for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
        return;
      }
      const cells = rows.map((r) => [String(r.index), r.id, r.state, detail(r)]);
      const header = ['index', 'run', 'state', 'detail'];
      const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
      const line = (c: string[]) => c.map((x, i) => (i < 3 ? x.padEnd(widths[i]) : x)).join('  ').trimEnd();
      process.stdout.write([line(header), ...cells.map(line), '', statusCounts(rows.map((r) => r.state))].join('\n') + '\n');
    });
}

/** The detail column: who runs it and how recently it said so, or the error; how far it got, and where a restart resumes. */
function detail(s: RunStatus & { steps: number }): string {
  const progress = [s.step ? `step ${s.step} of ${s.steps}` : '', s.checkpointStep ? `checkpoint at step ${s.checkpointStep}` : ''];
  if (s.state === 'running' && s.holder) {
    const ago = Math.max(0, Math.round((Date.now() - Date.parse(s.holder.heartbeat)) / 1000));
    return [`${s.holder.host} pid ${s.holder.pid}, heartbeat ${ago} s ago`, ...progress].filter(Boolean).join('; ');
  }
  if (s.state === 'failed' || s.state === 'interrupted') return [s.error ?? '', ...progress].filter(Boolean).join('; ');
  return progress.filter(Boolean).join('; ');
}
