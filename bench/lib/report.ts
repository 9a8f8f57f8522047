// The results: a table on stdout and a JSON file under bench/results/ (git-ignored).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import type { BenchContext, Row } from './context.js';

const ROOT = join(import.meta.dirname, '..', '..');

function verdict(row: Row): string {
  if (row.pass === null) return row.measured === 'not implemented' ? 'n/a' : 'info';
  return row.pass ? 'PASS' : 'FAIL';
}

export function formatTable(rows: readonly Row[]): string {
  const header = ['benchmark', 'target', 'measured', 'baseline', 'ratio', 'result'];
  const body = rows.map((r) => [r.benchmark, r.target, r.measured, r.baseline, r.ratio === null ? '' : r.ratio.toFixed(2), verdict(r)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  const notes = rows.filter((r) => r.note).map((r) => `- ${r.id}: ${r.note}`);
  return [line(header), rule, ...body.map(line), '', ...notes].join('\n');
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

export function machine(): Record<string, unknown> {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** Writes the JSON file; returns its path. */
export function writeResults(ctx: BenchContext, startedAt: Date, startLoad: number[], error?: unknown, partial = false): string {
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const file = join(dir, `bench-${stamp}.json`);
  const result = {
    runId: ctx.runId,
    quick: ctx.quick,
    ...(partial ? { partial: 'written after a phase; the run had not finished' } : {}),
    startedAt: startedAt.toISOString(),
    durationS: Math.round((Date.now() - startedAt.getTime()) / 1000),
    machine: { ...machine(), loadavgAtStart: startLoad },
    git: { head: git(['rev-parse', 'HEAD']), uncommittedInSrc: git(['status', '--short', '--', 'src']).split('\n').filter(Boolean) },
    rows: ctx.rows,
    details: ctx.details,
    ...(error ? { error: error instanceof Error ? (error.stack ?? error.message) : String(error) } : {}),
  };
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  writeFileSync(join(dir, 'latest.json'), JSON.stringify(result, null, 2) + '\n');
  return file;
}
