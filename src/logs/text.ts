// What a log line may carry to a page: text only. Terminal colour and cursor codes are removed,
// and so is every other control character but the tab, so nothing a container prints can move a
// cursor, ring a bell or hide text. The page still renders it with textContent, never as HTML.

// CSI (ESC [ … final), OSC (ESC ] … BEL or ST), and two-character ESC sequences; C1 CSI (0x9b) too.
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[ -/]*[0-~]?/g;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;

export function plainText(line: string): string {
  return line.replace(ANSI, '').replace(CONTROL, '');
}

/** Docker's RFC 3339 timestamp (UTC, up to nine fraction digits) as nanoseconds since the epoch. */
export function timestampNanos(stamp: string): bigint | undefined {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(stamp);
  if (!match) return undefined;
  const seconds = Date.parse(`${match[1]}Z`);
  if (Number.isNaN(seconds)) return undefined;
  return BigInt(seconds) * 1_000_000n + BigInt((match[2] ?? '').padEnd(9, '0'));
}

/** Splits `<timestamp> <text>` as Docker writes it with timestamps on. */
export function splitStamp(line: string): { stamp: string; text: string } {
  const space = line.indexOf(' ');
  if (space < 0) return { stamp: line, text: '' };
  return { stamp: line.slice(0, space), text: line.slice(space + 1) };
}
