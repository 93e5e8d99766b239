// The human-readable output: the headline figures, then absolute timings and ratios, then (with
// --profile) each model's top kernels.
import type { BenchResult } from './harness';
import type { GenerationLine } from './generation';
import { formatCount } from './harness';

function table(header: readonly string[], rows: readonly (readonly string[])[], rightAlignFrom = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i < rightAlignFrom ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const fixed = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : String(x));
/** Three significant digits at least, never scientific. */
const sig = (x: number) => (!Number.isFinite(x) ? String(x) : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toPrecision(3));

export function formatTables(results: readonly BenchResult[]): string {
  const main = table(
    ['model', 'backend', 'eval engine', 'batch', 'seq', 'train ms/step', 'eval ex/s (10 samples)', 'peak RSS MiB'],
    results.map((r) => [r.model, r.backend, r.eval_engine, String(r.batch), String(r.seq), fixed(r.train_ms_per_step, 1), sig(r.eval_examples_per_s_10_samples), fixed(r.peak_rss_mib, 0)]),
    3,
  );
  const detail = table(
    ['model', 'params', 'adapter', 'forward ms', 'train/forward', 'eval ms/batch', 'eval ms/sample', 'sample/forward', 'train cpu ms', 'eval cpu ms/batch', 'load ms', 'leaked tensors'],
    results.map((r) => [
      r.model,
      formatCount(r.parameters),
      formatCount(r.adapter_parameters),
      fixed(r.forward_ms, 1),
      `${fixed(r.train_step_vs_forward, 2)}x`,
      fixed(r.eval_ms_per_batch, 1),
      fixed(r.eval_ms_per_sample, 1),
      `${fixed(r.eval_sample_vs_forward, 2)}x`,
      fixed(r.train_cpu_ms_per_step, 1),
      fixed(r.eval_cpu_ms_per_batch, 1),
      String(r.load_ms),
      String(r.leaked_tensors),
    ]),
  );
  const notes = [
    'train: median of timed BLoB steps (flipout sample, NLL backward, AdamW, KL backward, SGD); eval: predict phase final, 10 weight samples per example;',
    'forward: one plain forward of the frozen backbone (last position, 5 answer columns); the x columns divide by it.',
    'cpu ms: process CPU time of the same calls (steadier than wall time on a shared machine).',
    ...results.map((r) => `${r.model}: ${r.fast_path}; evaluation: ${r.eval_engine_details}`),
  ];
  const parts = [main, '', detail, '', ...notes];
  for (const r of results) {
    if (!r.profile_top) continue;
    parts.push(
      '',
      `${r.model}: top kernels of one profiled training step (${fixed(r.profile_step_ms ?? NaN, 0)} ms wall under tf.profile)`,
      table(
        ['kernel', 'ms', 'calls', 'share'],
        r.profile_top.map((k) => [k.kernel, fixed(k.ms, 1), String(k.calls), `${(k.share * 100).toFixed(1)}%`]),
      ),
    );
    if (r.profile_eval_top_shapes) {
      parts.push(
        '',
        `${r.model}: top kernels of one profiled evaluation batch (${fixed(r.profile_eval_ms ?? NaN, 0)} ms wall under tf.profile), by input shapes`,
        table(
          ['kernel and input shapes', 'ms', 'calls', 'share'],
          r.profile_eval_top_shapes.map((k) => [k.kernel, fixed(k.ms, 1), String(k.calls), `${(k.share * 100).toFixed(1)}%`]),
        ),
      );
    }
    if (r.profile_top_shapes) {
      parts.push(
        '',
        `${r.model}: the same by input shapes`,
        table(
          ['kernel and input shapes', 'ms', 'calls', 'share'],
          r.profile_top_shapes.map((k) => [k.kernel, fixed(k.ms, 1), String(k.calls), `${(k.share * 100).toFixed(1)}%`]),
        ),
      );
    }
  }
  return `${parts.join('\n')}\n`;
}

/** The generation lines: every engine's figures, and the ratio to PyTorch's where there is one. */
export function formatGenerationTable(lines: readonly GenerationLine[]): string {
  const rows = lines.flatMap((l) =>
    l.engines.map((e) => [
      l.model,
      e.engine,
      sig(e.gen_tokens_per_s_10_samples),
      fixed(e.gen_s_per_question, 2),
      fixed(e.gen_prefill_s, 2),
      fixed(e.gen_ms_per_decode_step, 0),
      fixed(e.gen_cpu_s, 2),
      l.pytorch_tokens_per_s === undefined ? '-' : sig(l.pytorch_tokens_per_s),
      e.vs_pytorch === undefined ? '-' : `${fixed(e.vs_pytorch, 2)}x`,
    ]),
  );
  const first = lines[0];
  const notes = [
    `generation: BLoB (LoRA r 8 on ${first.lora_targets.join(', ')}) generate(phase final): ${first.questions} questions x ${first.samples} weight samples (one draw per sequence), prompts of ${first.prompt_tokens} tokens, ${first.new_tokens} new tokens, temperature ${first.temperature}, top-p ${first.top_p};`,
    'tokens/s counts every generated token of a call over its median wall time; prefill: the same call with 1 new token; cpu s: every thread of the process.',
    ...lines.filter((l) => l.pytorch_note).map((l) => `${l.model}: PyTorch figure: ${l.pytorch_note}`),
  ];
  return `${table(['model', 'engine', 'gen tokens/s (10 samples)', 's/question', 'prefill s', 'ms/decode step', 'cpu s', 'PyTorch tokens/s', 'vs PyTorch'], rows, 2)}\n${notes.join('\n')}\n`;
}
