import { promises as fs } from 'node:fs';
import { UserError, type JudgeItem } from '@bayes-peft/core';

/**
 * `bayes-peft judge --input` rows: one JSON object a line with `candidate` (string), `references`
 * (a list of strings, or one string) and optionally `question` and `id` (default: the line
 * number). Blank lines are skipped; anything else is an error naming the line.
 */
export async function readJudgeItems(file: string): Promise<JudgeItem[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const items: JudgeItem[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const at = `${file} line ${i + 1}`;
    let row: Record<string, unknown>;
    try {
      row = JSON.parse(line);
    } catch (e) {
      throw new UserError(`${at}: not JSON (${(e as Error).message})`);
    }
    if (!row || typeof row !== 'object' || Array.isArray(row)) throw new UserError(`${at}: expected a JSON object`);
    const { candidate, question, id } = row;
    const references = typeof row.references === 'string' ? [row.references] : row.references;
    if (typeof candidate !== 'string') throw new UserError(`${at}: "candidate" must be a string`);
    if (!Array.isArray(references) || !references.every((r) => typeof r === 'string')) throw new UserError(`${at}: "references" must be a list of strings (or one string)`);
    if (question !== undefined && typeof question !== 'string') throw new UserError(`${at}: "question" must be a string`);
    items.push({ id: id === undefined ? String(i + 1) : String(id), question: question ?? '', references, candidate });
  });
  if (items.length === 0) throw new UserError(`${file}: no items`);
  return items;
}
