// The pure parts of the live log and spawn progress: colour codes and control characters out,
// Docker timestamps ordered to the nanosecond, Docker's frames joined and cut, progress bounded.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { plainText, splitStamp, timestampNanos } from '../../src/logs/text.js';
import { demuxLines } from '../../src/containers/docker/logs.js';
import { MAX_LISTENERS_PER_PERSON, SpawnProgress } from '../../src/lifecycle/progress.js';

const frame = (kind: number, text: string) => {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = kind;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
};

async function collect(chunks: Buffer[], options: Parameters<typeof demuxLines>[2]): Promise<string[]> {
  const source = new PassThrough();
  const lines = demuxLines(source, undefined, options);
  const got: string[] = [];
  lines.on('data', (line: string) => got.push(line));
  for (const chunk of chunks) source.write(chunk);
  source.end();
  await new Promise((resolve) => lines.on('end', resolve));
  return got;
}

describe('plainText', () => {
  it('when a line has colours, cursor moves, titles and bells, then only its text is left', () => {
    expect(plainText('\u001b[1;31mred\u001b[0m \u001b[2K\u001b[10;5Hat\u001b]0;title\u0007 bell\u0007 \u009b31mc1')).toBe('red at bell c1');
    expect(plainText('tab\tstays, <script> stays text')).toBe('tab\tstays, <script> stays text');
    expect(plainText('nul\u0000 del\u007f cr\r')).toBe('nul del cr');
  });
});

describe('Docker timestamps', () => {
  it('when fractions have different lengths, then the order is still by the nanosecond', () => {
    const a = timestampNanos('2026-12-02T12:00:00.1Z')!;
    const b = timestampNanos('2026-12-02T12:00:00.100000001Z')!;
    const c = timestampNanos('2026-12-02T12:00:01Z')!;
    expect(a < b && b < c).toBe(true);
    expect(timestampNanos('not a time')).toBeUndefined();
    expect(splitStamp('2026-12-02T12:00:00Z hello world')).toEqual({ stamp: '2026-12-02T12:00:00Z', text: 'hello world' });
  });
});

describe('demuxLines', () => {
  it('when Docker splits a line over frames (with timestamps), then it is joined once; stdout and stderr keep apart', async () => {
    const got = await collect(
      [frame(1, '2026-12-02T12:00:00.1Z aaa'), frame(2, '2026-12-02T12:00:00.2Z err\n'), frame(1, '2026-12-02T12:00:00.3Z bbb\n')],
      { timestamps: true },
    );
    expect(got).toEqual(['2026-12-02T12:00:00.2Z err', '2026-12-02T12:00:00.1Z aaabbb']);
  });

  it('when a line is longer than the cap, then it is cut with "…" and the rest skipped up to its newline', async () => {
    const got = await collect([frame(1, 'x'.repeat(30)), frame(1, 'y'.repeat(30) + '\nnext\n')], { maxLineLength: 40 });
    expect(got).toEqual([`${'x'.repeat(30)}${'y'.repeat(10)}…`, 'next']);
  });
});

describe('SpawnProgress', () => {
  const alice = { id: 1, username: 'alice' };

  it('when a spawn runs, then steps are kept, its length is told once, and a new spawn starts a new list', () => {
    const progress = new SpawnProgress();
    const ends: string[] = [];
    progress.onSpawnEnd((result) => ends.push(result));
    progress.report(alice, 'waiting');
    expect(progress.history(1)).toEqual([]);
    for (const phase of ['creating', 'starting', 'waiting', 'ready'] as const) progress.report(alice, phase);
    expect(progress.history(1).map((e) => e.phase)).toEqual(['creating', 'starting', 'waiting', 'ready']);
    expect(progress.inProgress(1)).toBe(false);
    expect(progress.current(1)).toEqual([]);
    progress.report(alice, 'starting');
    progress.report(alice, 'failed', 'the image is missing');
    expect(progress.history(1).map((e) => e.message)).toEqual(['Starting your container…', 'the image is missing']);
    expect(ends).toEqual(['success', 'failure']);
  });

  it('when many people start and many pages listen, then memory stays bounded', () => {
    const progress = new SpawnProgress();
    for (let id = 0; id < 5000; id++) progress.report({ id, username: `p${id}` }, 'starting');
    expect(progress.history(0)).toEqual([]);
    expect(progress.history(4999)).toHaveLength(1);
    const offs = Array.from({ length: MAX_LISTENERS_PER_PERSON + 1 }, () => progress.subscribe(1, () => undefined));
    expect(offs.filter(Boolean)).toHaveLength(MAX_LISTENERS_PER_PERSON);
    expect(offs.at(-1)).toBeUndefined();
  });
});
