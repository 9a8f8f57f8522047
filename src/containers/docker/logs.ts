// A container's output as text lines: Docker's json-file log stream demultiplexed (8-byte frame
// headers for stdout/stderr of a non-TTY container) and split into lines. Deliberately plain; the
// live-logs feature adds its own colour stripping and rate limits on top.
//
// Docker splits a line longer than 16 KB over several frames (moby#32923); with timestamps each
// frame starts with its own, so a continuation's timestamp is dropped and the pieces are joined
// (as Dozzle does). stdout and stderr keep their pieces apart. A line longer than maxLineLength is
// cut there (ending in "…") and the rest of it skipped, so a process printing without newlines costs no memory.
import { Transform, type Readable } from 'node:stream';

export interface DemuxOptions {
  timestamps?: boolean;
  maxLineLength?: number | undefined;
}

interface Piece {
  text: string;
  /** The line was cut at maxLineLength: the rest of it, up to its newline, is skipped. */
  cut: boolean;
}

/** Splits Docker's multiplexed frames into their payload, then the payload into lines. */
export function demuxLines(source: Readable, signal?: AbortSignal, options: DemuxOptions = {}): Readable {
  let pending = Buffer.alloc(0);
  const max = options.maxLineLength ?? Number.POSITIVE_INFINITY;
  // Per stream (1 stdout, 2 stderr): the unfinished line.
  const partial = new Map<number, Piece>();
  const lines = new Transform({
    readableObjectMode: true,
    transform(chunk: Buffer, _encoding, done) {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 8) {
        const size = pending.readUInt32BE(4);
        if (pending.length < 8 + size) break;
        const kind = pending[0]!;
        let text = pending.subarray(8, 8 + size).toString('utf8');
        pending = pending.subarray(8 + size);
        const piece = partial.get(kind);
        // A continuation frame repeats a timestamp: the line keeps its first one.
        if (piece && options.timestamps) text = text.replace(/^\S+ /, '');
        const parts = text.split('\n');
        const last = parts.pop()!;
        let current = piece ?? { text: '', cut: false };
        for (const part of parts) {
          this.push(finishLine(append(current, part, max)));
          current = { text: '', cut: false };
        }
        const rest = append(current, last, max);
        if (rest.text || rest.cut) partial.set(kind, rest);
        else partial.delete(kind);
      }
      done();
    },
    flush(done) {
      for (const piece of partial.values()) this.push(finishLine(piece));
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

function append(piece: Piece, text: string, max: number): Piece {
  if (piece.cut) return piece;
  const joined = piece.text + text;
  return joined.length > max ? { text: joined.slice(0, max), cut: true } : { text: joined, cut: false };
}

/** A cut line ends in "…", so a reader can tell. */
function finishLine(piece: Piece): string {
  return piece.cut ? `${piece.text}…` : piece.text.replace(/\r$/, '');
}
