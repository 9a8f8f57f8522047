// A container's output as text lines: Docker's json-file log stream demultiplexed (8-byte frame
// headers for stdout/stderr of a non-TTY container) and split into lines. Deliberately plain; the
// live-logs feature adds its own caps, colour stripping and rate limits on top.
import { Transform, type Readable } from 'node:stream';

/** Splits Docker's multiplexed frames into their payload, then the payload into lines. */
export function demuxLines(source: Readable, signal?: AbortSignal): Readable {
  let pending = Buffer.alloc(0);
  let partial = '';
  const lines = new Transform({
    readableObjectMode: true,
    transform(chunk: Buffer, _encoding, done) {
      pending = Buffer.concat([pending, chunk]);
      let text = '';
      while (pending.length >= 8) {
        const size = pending.readUInt32BE(4);
        if (pending.length < 8 + size) break;
        text += pending.subarray(8, 8 + size).toString('utf8');
        pending = pending.subarray(8 + size);
      }
      const parts = (partial + text).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) this.push(line.replace(/\r$/, ''));
      done();
    },
    flush(done) {
      if (partial) this.push(partial);
      done();
    },
  });
  const end = () => {
    source.destroy();
    lines.end();
  };
  signal?.addEventListener('abort', end, { once: true });
  source.on('error', (error) => lines.destroy(error));
  lines.on('close', () => {
    signal?.removeEventListener('abort', end);
    source.destroy();
  });
  if (signal?.aborted) end();
  else source.pipe(lines);
  return lines;
}
