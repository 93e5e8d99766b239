/** The 57 subjects of cais/mmlu (its `subject` field and per-subject config names). */
export const MMLU_SUBJECTS = [
  'abstract_algebra', 'anatomy', 'astronomy', 'business_ethics', 'clinical_knowledge', 'college_biology', 'college_chemistry',
  'college_computer_science', 'college_mathematics', 'college_medicine', 'college_physics', 'computer_security', 'conceptual_physics',
  'econometrics', 'electrical_engineering', 'elementary_mathematics', 'formal_logic', 'global_facts', 'high_school_biology',
  'high_school_chemistry', 'high_school_computer_science', 'high_school_european_history', 'high_school_geography',
  'high_school_government_and_politics', 'high_school_macroeconomics', 'high_school_mathematics', 'high_school_microeconomics',
  'high_school_physics', 'high_school_psychology', 'high_school_statistics', 'high_school_us_history', 'high_school_world_history',
  'human_aging', 'human_sexuality', 'international_law', 'jurisprudence', 'logical_fallacies', 'machine_learning', 'management',
  'marketing', 'medical_genetics', 'miscellaneous', 'moral_disputes', 'moral_scenarios', 'nutrition', 'philosophy', 'prehistory',
  'professional_accounting', 'professional_law', 'professional_medicine', 'professional_psychology', 'public_relations',
  'security_studies', 'sociology', 'us_foreign_policy', 'virology', 'world_religions',
] as const;
export type MmluSubject = (typeof MMLU_SUBJECTS)[number];

/** The reference's subject groups, `MMLU-<group>` (docs/reference-differences.md row 62), in its order. */
export const MMLU_GROUPS = {
  cs: ['college_computer_science', 'high_school_computer_science', 'computer_security', 'machine_learning'],
  eng: ['electrical_engineering'],
  law: ['international_law', 'jurisprudence', 'professional_law'],
  health: ['anatomy', 'clinical_knowledge', 'college_medicine', 'human_aging', 'nutrition', 'professional_medicine', 'virology'],
  chem: ['college_chemistry'],
  bio: ['college_biology'],
  phy: ['college_physics'],
} as const satisfies Record<string, readonly MmluSubject[]>;
export type MmluGroup = keyof typeof MMLU_GROUPS;
export const MMLU_GROUP_NAMES = Object.keys(MMLU_GROUPS) as [MmluGroup, ...MmluGroup[]];
