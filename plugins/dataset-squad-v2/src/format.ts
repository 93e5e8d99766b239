import { getField, getId, getString, getStringArray, hasField, isPlainObject, normalizedReferences, RowError, typeName, type DataRow } from '@bayes-peft/data';
import type { DatasetLoadContext, OpenExample } from '@bayes-peft/core';

/** The reference's answer for a question without one; the prompts ask the model for this word. */
export const SQUAD_V2_UNANSWERABLE = 'unanswerable';

/**
 * The reference's user message for the chat template, verbatim. It differs from the plain prompt
 * ("cannot be answered," and single quotes there): the reference has two wordings and both are kept.
 */
export const SQUAD_V2_USER_MESSAGE =
  "Answer the question based on the context. Provide a concise answer. If the question cannot be answered, respond with 'unanswerable'.\n\nContext: {context}\nQuestion: {question}";

/** The reference's prompt without a chat template, verbatim. */
export const SQUAD_V2_PLAIN_TEMPLATE =
  'Answer the question based on the context. Provide a concise answer. If the question cannot be answered from the context, respond with "unanswerable".\n\nContext: {context}\nQuestion: {question}\nAnswer:';

export interface SquadV2FormatOptions {
  /** Every normalised answer text among the references, or only the first. */
  readonly aliases: boolean;
  /** Chat-templated prompts when given (DatasetLoadContext.applyChatTemplate), else the plain template. */
  readonly chat?: DatasetLoadContext['applyChatTemplate'];
  /** Id when the row has no `id` field (local copies without it). */
  readonly fallbackId: string;
}

export interface FormattedSquadV2 {
  readonly example: OpenExample;
  /** False when the references are just 'unanswerable'. */
  readonly answerable: boolean;
  /** The row has answers but every one normalises to '': it is scored as unanswerable. */
  readonly emptyAnswers: boolean;
}

/**
 * One SQuAD v2 row (hub schema: id, title, context, question, answers.{text, answer_start}) as an
 * open example: references = the normalised answer texts, deduplicated, or ['unanswerable'] when
 * there are none; the training text ends with the primary reference.
 */
export function formatSquadV2Row(row: DataRow, options: SquadV2FormatOptions): FormattedSquadV2 {
  const question = getString(row, 'question');
  const context = getString(row, 'context');
  const texts = answerTexts(row);
  // An empty reference would match every generation (docs/reference-differences.md rows 37, 79):
  // such answers are dropped, and a question left with none is scored as the official SQuAD v2
  // evaluation scores it, as unanswerable.
  const normalized = normalizedReferences(texts);
  const usable = options.aliases ? normalized : normalized.slice(0, 1);
  const references = usable.length ? usable : [SQUAD_V2_UNANSWERABLE];
  // One pass over the template: a context that itself holds '{question}' stays as written.
  const fill = (template: string) => template.replace(/\{(context|question)\}/g, (_, key: string) => (key === 'context' ? context : question));
  const prompt = options.chat ? options.chat(fill(SQUAD_V2_USER_MESSAGE)) : fill(SQUAD_V2_PLAIN_TEMPLATE);
  const trainText = options.chat ? options.chat(fill(SQUAD_V2_USER_MESSAGE), references[0]) : `${prompt} ${references[0]}`;
  const id = hasField(row, 'id') ? getId(row, 'id') : options.fallbackId;
  return {
    example: { id, question, prompt, references, trainText, context },
    answerable: usable.length > 0,
    emptyAnswers: texts.length > 0 && normalized.length === 0,
  };
}

/**
 * The answer texts: the hub's column form `answers: {text: [...], answer_start: [...]}`, or one
 * object per answer, `answers: [{text, answer_start}, ...]`, as per-question exports write them.
 */
function answerTexts(row: DataRow): string[] {
  const answers = getField(row, 'answers');
  if (!Array.isArray(answers)) {
    if (!isPlainObject(answers)) throw new RowError(row.source, 'answers', `expected {text: [...], answer_start: [...]} or a list of {text}, got ${typeName(answers)}`);
    return getStringArray(row, 'answers.text');
  }
  return answers.map((answer, i) => {
    if (!isPlainObject(answer)) throw new RowError(row.source, `answers[${i}]`, `expected an object with a text, got ${typeName(answer)}`);
    if (typeof answer.text !== 'string') throw new RowError(row.source, `answers[${i}].text`, `expected a string, got ${typeName(answer.text)}`);
    return answer.text;
  });
}
