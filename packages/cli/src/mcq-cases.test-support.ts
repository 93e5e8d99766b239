// The multiple-choice dataset plugins with options that read ../shared/data (MMLU, which shared/
// lacks, reads a small file in the hub's schema written here), for the tests that run every one.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export interface McqCase {
  readonly plugin: string;
  readonly options: Record<string, unknown>;
  /** Number of classes (target labels). */
  readonly classes: number;
  /** How every prompt of the dataset ends. */
  readonly cue: string;
}

/** cais/mmlu 'all' rows: 12 of the cs group and 2 of other subjects. */
export async function writeMmluFile(dir: string): Promise<string> {
  const subjects = ['college_computer_science', 'high_school_computer_science', 'computer_security', 'machine_learning'];
  const rows = Array.from({ length: 14 }, (_, i) => ({
    question: `In computing, which of these terms number ${i} describes a data structure used for ordered storage and retrieval of items?`,
    subject: i < 12 ? subjects[i % 4] : 'anatomy',
    choices: ['a queue', 'a stack', 'a heap', 'a tree'],
    answer: i % 4,
  }));
  const file = path.join(dir, 'mmlu', 'all', 'test.jsonl');
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, rows.map((r) => JSON.stringify(r)).join('\n'));
  return path.join(dir, 'mmlu');
}

/** Every MCQ plugin; shared/data has no train split for ARC, PIQA, HellaSwag and BoolQ, so those train on another split. */
export function mcqCases(shared: string, mmluSource: string): McqCase[] {
  const data = (name: string) => path.join(shared, 'data', name);
  return [
    { plugin: 'arc', options: { subset: 'ARC-Easy', source: data('arc_easy'), splits: { train: 'test', test: 'validation' } }, classes: 5, cue: '\nAnswer:' },
    { plugin: 'openbookqa', options: { source: data('openbookqa') }, classes: 4, cue: '\nAnswer:' },
    { plugin: 'piqa', options: { source: data('piqa'), splits: { train: 'validation' } }, classes: 2, cue: '\nAnswer:' },
    { plugin: 'winogrande', options: { source: data('winogrande'), size: 'xs' }, classes: 2, cue: '\nAnswer:' },
    { plugin: 'hellaswag', options: { source: data('hellaswag'), splits: { train: 'validation' } }, classes: 4, cue: '\nAnswer:' },
    { plugin: 'boolq', options: { source: data('boolq'), splits: { train: 'validation' } }, classes: 2, cue: '\nAnswer (true or false):' },
    { plugin: 'commonsenseqa', options: { source: data('commonsenseqa') }, classes: 5, cue: '\nAnswer:' },
    { plugin: 'mmlu', options: { source: mmluSource, group: 'cs' }, classes: 4, cue: '\nAnswer:' },
  ];
}
