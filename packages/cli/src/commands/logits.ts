import { promises as fs } from 'node:fs';
import { Command } from 'commander';
import { Rng, UserError, type EncodedBatch } from '@bayes-peft/core';
import { tf, writeFileAtomic } from '@bayes-peft/tensor';
import { openModel, parsePositiveInt, withModelOptions, type ModelOptions } from './model-options';

interface Row {
  text?: string;
  ids?: number[];
}

export function logitsCommand(): Command {
  return withModelOptions(new Command('logits'))
    .description('last-position logits over the whole vocabulary for each input row')
    .requiredOption('--input <file.jsonl>', 'rows {"text": ...} or {"ids": [...]}')
    .requiredOption('--out <file.jsonl>', 'rows {"ids": [...], "last_logits": [...]}')
    .option('--batch-size <n>', 'rows per forward pass', parsePositiveInt('--batch-size'), 8)
    .action(async (opts: ModelOptions & { input: string; out: string; batchSize: number }) => {
      const rows = await readRows(opts.input);
      const backbone = await openModel(opts);
      const ctx = { training: false, rng: new Rng(0) };
      const out: string[] = [];
      try {
        for (let i = 0; i < rows.length; i += opts.batchSize) {
          const part = rows.slice(i, i + opts.batchSize);
          const ids = part.map((r) => r.ids ?? backbone.tokenizer.encode(r.text!, { addSpecialTokens: true }));
          const batch = leftPad(ids, backbone.tokenizer.padTokenId);
          const tokens = backbone.toTensors(batch);
          const logits = tf.tidy(() => backbone.forward(tokens, { output: 'last', ctx }));
          const values = (await logits.array()) as number[][];
          logits.dispose();
          tokens.inputIds.dispose();
          tokens.attentionMask.dispose();
          ids.forEach((row, j) => out.push(JSON.stringify({ ids: row, last_logits: values[j] })));
        }
      } finally {
        backbone.dispose();
      }
      await writeFileAtomic(opts.out, `${out.join('\n')}\n`);
      process.stderr.write(`wrote ${out.length} rows to ${opts.out}\n`);
    });
}

async function readRows(file: string): Promise<Row[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const rows: Row[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let row: Row;
    try {
      row = JSON.parse(line);
    } catch (e) {
      throw new UserError(`${file} line ${i + 1}: not JSON (${(e as Error).message})`);
    }
    const okIds = Array.isArray(row.ids) && row.ids.length > 0 && row.ids.every((x) => Number.isInteger(x) && x >= 0);
    if (!okIds && typeof row.text !== 'string') throw new UserError(`${file} line ${i + 1}: expected {"text": string} or {"ids": [non-negative integers]}`);
    rows.push(okIds ? { ids: row.ids } : { text: row.text });
  });
  if (rows.length === 0) throw new UserError(`${file}: no rows`);
  return rows;
}

export function leftPad(ids: number[][], pad: number): EncodedBatch {
  const T = Math.max(...ids.map((r) => r.length));
  return {
    ids: ids.map((r) => [...new Array(T - r.length).fill(pad), ...r]),
    mask: ids.map((r) => [...new Array(T - r.length).fill(0), ...new Array(r.length).fill(1)]),
  };
}
