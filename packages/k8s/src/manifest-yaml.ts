import { stringify } from 'yaml';

/**
 * A manifest as YAML for `kubectl apply -f -`, after comment lines (`#`-prefixed) that say what
 * it is and how to follow it. Long strings stay on one line (no folding), as kubectl shows them.
 */
export function manifestYaml(manifest: Record<string, unknown>, comments: readonly string[] = []): string {
  const header = comments.map((c) => `# ${c}\n`).join('');
  return header + stringify(manifest, { lineWidth: 0 });
}
