// Kubernetes manifests for bayes-peft run matrices (`bayes-peft submit k8s`): an Indexed Job
// with one completion per run, validated against the Kubernetes API's models before it is printed.
export * from './indexed-job';
export * from './manifest-yaml';
