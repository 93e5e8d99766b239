/** The MCQ loss and batch accuracy every LoRA wrapper shares (REFERENCE-SPEC 4.1) live in @bayes-peft/core. */
export { classNll, classAccuracy as accuracy } from '@bayes-peft/core';
