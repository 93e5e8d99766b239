---
"{{packageName}}": minor
---

First release: the `{{name}}` wrapper for bayes-peft.
