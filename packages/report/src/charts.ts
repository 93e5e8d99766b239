import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import type { LayerSpec } from 'vega-lite/build/src/spec';

/**
 * Renders a Vega-Lite spec to a static SVG string in Node (renderer 'none', no DOM, no network:
 * every spec carries its data inline).
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', loader: offlineLoader() });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A loader that refuses every fetch: the report must be built from inline data only. */
function offlineLoader(): vega.Loader {
  const loader = vega.loader();
  loader.load = async (uri: string) => {
    throw new Error(`report charts load nothing (asked for ${uri})`);
  };
  return loader;
}

const WIDTH = 320;
const HEIGHT = 240;
const SMALL = 200;
const FONT = { config: { font: 'sans-serif', view: { stroke: '#ccc' } } } as const;

type ReliabilityBin = { lo: number; hi: number; count: number; accuracy: number; confidence: number };

/** Accuracy per confidence bin as bars from 0, each bin's count above its bar, and the diagonal of perfect calibration. */
export function reliabilitySpec(title: string, bins: ReliabilityBin[]): TopLevelSpec {
  return { ...FONT, title, width: WIDTH, height: HEIGHT, layer: reliabilityLayers(bins) };
}

/**
 * Reliability diagrams side by side on the same axes, one per series (a dataset's methods, each
 * pooled over its seeds): the figure a paper compares calibration with.
 */
export function reliabilityComparisonSpec(title: string, panels: { title: string; bins: ReliabilityBin[] }[]): TopLevelSpec {
  return {
    ...FONT,
    title,
    hconcat: panels.map((p) => ({ title: { text: p.title, fontSize: 11 }, width: SMALL, height: SMALL, layer: reliabilityLayers(p.bins) })),
  } as TopLevelSpec;
}

function reliabilityLayers(bins: ReliabilityBin[]): LayerSpec<string>['layer'] {
  const values = bins.filter((b) => b.count > 0).map((b) => ({ ...b, mid: (b.lo + b.hi) / 2 }));
  return [
    {
      data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
      mark: { type: 'line', strokeDash: [4, 4], color: '#888' },
      encoding: { x: { field: 'x', type: 'quantitative', title: 'confidence', scale: { domain: [0, 1] } }, y: { field: 'y', type: 'quantitative', title: 'accuracy', scale: { domain: [0, 1] } } },
    },
    {
      data: { values },
      mark: { type: 'rect', color: '#4c78a8', opacity: 0.8, stroke: 'white' },
      encoding: { x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' }, y: { field: 'accuracy', type: 'quantitative' }, y2: { datum: 0 }, tooltip: [{ field: 'count', type: 'quantitative' }] },
    },
    {
      data: { values },
      mark: { type: 'text', dy: -6, fontSize: 9 },
      encoding: { x: { field: 'mid', type: 'quantitative' }, y: { field: 'accuracy', type: 'quantitative' }, text: { field: 'count', type: 'quantitative' } },
    },
  ];
}

export function histogramSpec(title: string, bins: { lo: number; hi: number; count: number }[]): TopLevelSpec {
  return {
    ...FONT,
    title,
    width: WIDTH,
    height: HEIGHT,
    data: { values: bins },
    mark: { type: 'rect', color: '#f58518', stroke: 'white' },
    encoding: {
      x: { field: 'lo', type: 'quantitative', title: 'confidence', scale: { domain: [0, 1] } },
      x2: { field: 'hi' },
      y: { field: 'count', type: 'quantitative', title: 'examples' },
    },
  };
}

/** Lines by `series`, one color each (risk-coverage overlays, training curves). */
export function linesSpec(title: string, values: { x: number; y: number; series: string }[], x: string, y: string, options: { yDomain?: [number, number]; logY?: boolean } = {}): TopLevelSpec {
  return {
    ...FONT,
    title,
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: 'line', interpolate: 'linear' },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: x },
      y: { field: 'y', type: 'quantitative', title: y, scale: { ...(options.yDomain ? { domain: options.yDomain } : { zero: false }), ...(options.logY ? { type: 'symlog' } : {}) } },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
}

/**
 * One panel per series, stacked, each with its own y scale: quantities of different sizes over
 * the same x (a calibration search's β and its criterion), which one shared axis would flatten.
 */
export function panelsSpec(title: string, values: { x: number; y: number; series: string }[], x: string): TopLevelSpec {
  return {
    ...FONT,
    title,
    data: { values },
    facet: { row: { field: 'series', type: 'nominal', title: null } },
    spec: {
      width: WIDTH,
      height: 90,
      mark: { type: 'line', point: false },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: x },
        y: { field: 'y', type: 'quantitative', title: null, scale: { zero: false } },
      },
    },
    resolve: { scale: { y: 'independent' } },
  } as TopLevelSpec;
}
