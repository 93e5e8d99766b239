import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { Logger } from '@bayes-peft/core';

export interface ProgressTask {
  update(done: number, values?: Record<string, number | string>): void;
  stop(): void;
}

/**
 * A bar with rate and ETA on a terminal; elsewhere (CI, pipes) a plain line every ~10%, so logs
 * stay readable.
 */
export class Progress {
  private multi: MultiBar | null = null;

  constructor(
    private readonly log: Logger,
    private readonly tty: boolean = !!process.stderr.isTTY && !process.env.CI,
  ) {}

  start(label: string, total: number, unit = 'it'): ProgressTask {
    if (this.tty) {
      this.multi ??= new MultiBar(
        {
          format: `{label} |{bar}| {value}/{total} ${unit} | {rate} ${unit}/s | ETA {eta_formatted} | {info}`,
          hideCursor: true,
          clearOnComplete: false,
          stream: process.stderr,
        },
        Presets.shades_classic,
      );
      const bar: SingleBar = this.multi.create(total, 0, { label, rate: '-', info: '' });
      const t0 = Date.now();
      return {
        update: (done, values) => {
          const rate = done / Math.max(1e-3, (Date.now() - t0) / 1000);
          bar.update(done, { label, rate: rate.toFixed(2), info: formatValues(values) });
        },
        stop: () => {
          bar.stop();
          this.multi?.remove(bar);
          this.log.info(`${label}: ${total} ${unit} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        },
      };
    }
    const t0 = Date.now();
    let nextReport = 0;
    const stride = Math.max(1, Math.ceil(total / 10));
    return {
      update: (done, values) => {
        if (done < nextReport && done !== total) return;
        nextReport = done + stride;
        const secs = (Date.now() - t0) / 1000;
        const rate = done / Math.max(1e-3, secs);
        const eta = rate > 0 ? (total - done) / rate : 0;
        this.log.info(`${label} ${done}/${total} ${unit} | ${rate.toFixed(2)} ${unit}/s | ETA ${eta.toFixed(0)} s${values ? ` | ${formatValues(values)}` : ''}`);
      },
      stop: () => {
        this.log.info(`${label}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      },
    };
  }

  close(): void {
    this.multi?.stop();
    this.multi = null;
  }
}

function formatValues(values?: Record<string, number | string>): string {
  if (!values) return '';
  return Object.entries(values)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? formatNumber(v) : v}`)
    .join(' ');
}

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(3);
  return v.toFixed(4);
}
