/**
 * Fills `{name}` placeholders in one pass, so text put in for one placeholder is never scanned
 * again: a question that itself holds "{choices}" stays as it is. A placeholder without a value
 * is an error (a typo in a template must not reach a prompt).
 */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (!Object.prototype.hasOwnProperty.call(values, name)) {
      throw new Error(`template placeholder {${name}} has no value (given: ${Object.keys(values).join(', ') || 'none'})`);
    }
    return values[name];
  });
}

/** The placeholders a template uses, in order of first appearance. */
export function templateFields(template: string): string[] {
  return [...new Set([...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]))];
}

/**
 * The reference's zero-shot multiple-choice template (docs/methods.md, 'Multiple-choice prompts and targets': ARC, WinoGrande and
 * MMLU use it verbatim), also the pattern of the prompts designed here for PIQA and HellaSwag.
 * `{choices}` is one `A) text` line per choice (see renderChoices).
 */
export const RETURN_LABEL_TEMPLATE = 'Return the label of the correct answer for the question below.\n\nQuestion: {question}\nChoices:\n{choices}\nAnswer:';
