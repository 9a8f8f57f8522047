// Settings of the observability features: the /metrics endpoint's token and the live-log caps.
// Kept apart from config.ts so the feature's settings travel with it.
import { z } from 'zod';
import { int } from './fields.js';

/** Long enough that guessing is hopeless, printable so it fits a Prometheus credentials file. */
const TOKEN_RE = /^[\x21-\x7e]{24,256}$/;

export const observeFields = {
  // Its own check: the shared field builders quote the value in their message, and this is a secret.
  METRICS_TOKEN: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return undefined;
      if (!TOKEN_RE.test(v.trim())) {
        ctx.addIssue({ code: 'custom', message: 'must be at least 24 printable characters without spaces (e.g. `openssl rand -hex 32`)' });
        return z.NEVER;
      }
      return v.trim();
    }),
  LOG_STREAMS_MAX: int(100, 1, 10_000),
  LOG_STREAM_LINES_PER_SECOND: int(200, 1, 100_000),
};

export interface ObserveConfig {
  /** The bearer token /metrics asks for; undefined = /metrics is not served (404). */
  metricsToken: string | undefined;
  logs: {
    /** Live-log streams open at once, all people together (429 beyond). */
    maxStreams: number;
    /** Per person, whatever the global cap (two tabs, or a tab and a script). */
    maxStreamsPerPerson: number;
    /** Lines one stream sends per second; beyond it lines are dropped and a marker says how many. */
    linesPerSecond: number;
  };
}

export function observeConfig(e: {
  METRICS_TOKEN: string | undefined;
  LOG_STREAMS_MAX: number;
  LOG_STREAM_LINES_PER_SECOND: number;
}): ObserveConfig {
  return {
    metricsToken: e.METRICS_TOKEN,
    logs: { maxStreams: e.LOG_STREAMS_MAX, maxStreamsPerPerson: 2, linesPerSecond: e.LOG_STREAM_LINES_PER_SECOND },
  };
}
