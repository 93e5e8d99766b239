/**
 * The charts of a report and their mark elements: per `<figure data-chart>`, the `<path>`s and
 * `<text>`s inside each Vega `mark-<type>` group of its SVG (what tests check was drawn).
 */
export function chartMarks(html: string): { chart: string; run: string; marks: Record<string, number> }[] {
  const out: { chart: string; run: string; marks: Record<string, number> }[] = [];
  for (const m of html.matchAll(/<figure class="chart" data-chart="([^"]*)" data-run="([^"]*)">(.*?)<\/figure>/gs)) {
    const marks: Record<string, number> = {};
    for (const g of m[3].matchAll(/class="mark-(\w+) role-mark[^"]*"[^>]*>(.*?)<\/g>/gs)) {
      marks[g[1]] = (marks[g[1]] ?? 0) + (g[2].match(/<path/g)?.length ?? 0) + (g[2].match(/<text/g)?.length ?? 0);
    }
    out.push({ chart: m[1], run: m[2], marks });
  }
  return out;
}
