import { describe, expect, it } from 'vitest';
import { parseByteSize, parseDuration } from '../../src/units.js';

describe('units', () => {
  it('parses Docker-style sizes in binary units', () => {
    expect(parseByteSize('512m')).toBe(536870912);
    expect(parseByteSize('1g')).toBe(1073741824);
    expect(parseByteSize('64k')).toBe(65536);
    expect(parseByteSize('100')).toBe(100);
    expect(parseByteSize('512MB')).toBe(536870912);
    expect(parseByteSize('lots')).toBeNull();
    expect(parseByteSize('-1m')).toBeNull();
  });

  it('parses durations, bare numbers being seconds as in the seed', () => {
    expect(parseDuration('3600')).toBe(3_600_000);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('12h')).toBe(43_200_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('soon')).toBeNull();
  });
});
