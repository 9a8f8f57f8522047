// Parses the human units operators write in .env: sizes like 512m and durations like 30s or 12h.

const SIZE_FACTORS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
const DURATION_FACTORS_MS: Record<string, number> = { ms: 1, '': 1000, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** '512m' → 536870912 bytes (Docker's binary units); null when it is not a size. */
export function parseByteSize(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*([bkmg]?)b?$/i.exec(text.trim());
  if (!match) return null;
  const factor = SIZE_FACTORS[(match[2] ?? '').toLowerCase()];
  if (factor === undefined) return null;
  const bytes = Math.round(Number(match[1]) * factor);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/** '3600' (seconds, as the seed writes it), '30s', '15m', '12h', '7d', '250ms' → milliseconds. */
export function parseDuration(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/i.exec(text.trim());
  if (!match) return null;
  const factor = DURATION_FACTORS_MS[(match[2] ?? '').toLowerCase()];
  if (factor === undefined) return null;
  const ms = Math.round(Number(match[1]) * factor);
  return Number.isSafeInteger(ms) ? ms : null;
}
