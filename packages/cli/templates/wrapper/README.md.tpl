# {{packageName}}

{{description}}

A [bayes-peft](https://www.npmjs.com/package/@bayes-peft/cli) wrapper plugin. Install it beside the
CLI and name it in a run spec:

```sh
npm i @bayes-peft/cli {{packageName}}
```

```yaml
name: my-run
model: { path: ./my-model }          # a Hugging Face folder or hub id
dataset: { plugin: arc }
wrapper:
  plugin: {{packageName}}
  options: { labelSmoothing: 0.1 }
lora: { r: 8, alpha: 16, targets: [q_proj, v_proj, lm_head] }
train: { steps: 1000, batchSize: 4, lr: 1.0e-4 }
```

```sh
npx bayes-peft options {{packageName}}     # the options below, with their defaults
npx bayes-peft experiment my-run.yaml
```

## Options

| option | default | meaning |
|---|---|---|
| `labelSmoothing` | `0` | weight of the uniform distribution mixed into the training target (0 = plain maximum likelihood) |

Learning rate, optimizer, weight decay and warmup come from the spec's `train:` section; rank,
alpha, dropout and target layers from its `lora:` section.

## What it does

Plain LoRA on the target layers (PEFT's initialisation), trained by maximum likelihood on the
answer tokens' logits with the spec's optimizer and linear warmup/decay schedule; one
deterministic pass at evaluation (`[batch, 1, classes]`); the adapter is saved in PEFT's layout.

## Developing

```sh
npm install
npm run build        # tsc -> dist/
npm test             # jest: the loss test and the bayes-peft conformance suite
```

`src/conformance.test.ts` runs `describeWrapperConformance` from `@bayes-peft/plugin-testkit`:
the Wrapper contract as the runner relies on it, on a tiny Llama, in a few seconds. Keep it
green while you turn this into your method.

## Releasing

```sh
npx changeset                 # describe a change (one is waiting: the first release)
npx changeset version         # bump the version, write CHANGELOG.md
npm run build && npx changeset publish
```
