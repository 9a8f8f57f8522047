// The operator's catalogue of templates: read from TEMPLATES_FILE (YAML) at start, every problem
// reported at once as `file:line: path: message`, or — without a file — the one template named
// `default` that USER_TEMPLATE_IMAGE and the container settings describe, so a configuration
// without templates keeps yielding today's exact container.
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';
import { catalogueSchema, type TemplateEntry } from './schema.js';

export type TemplateAccess = 'everyone' | 'admins' | readonly string[];

/** One template as the plan reads it; limits and idle times absent mean "the global default". */
export interface Template {
  name: string;
  title: string;
  description: string;
  image: string;
  port: number;
  env: Readonly<Record<string, string>>;
  command?: readonly string[];
  limits: { memoryBytes?: number; cpus?: number; pidsLimit?: number };
  readOnly?: boolean;
  user?: string;
  dataPath?: string;
  /** 'healthcheck': the image's own check (HTTP on / when it has none); http: any answer on the path. */
  readiness?: 'healthcheck' | { http: string };
  idleTimeoutMs?: number;
  pauseAfterMs?: number;
  allowed: TemplateAccess;
  default: boolean;
}

export class CatalogueError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid templates file:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'CatalogueError';
  }
}

/** The single template today's settings describe (no TEMPLATES_FILE). */
export function defaultTemplate(containers: { image: string; port: number }): Template {
  return {
    name: 'default',
    title: 'Default',
    description: '',
    image: containers.image,
    port: containers.port,
    env: {},
    limits: {},
    allowed: 'everyone',
    default: true,
  };
}

function fromEntry(e: TemplateEntry): Template {
  return {
    name: e.name,
    title: e.title,
    description: e.description,
    image: e.image,
    port: e.port,
    env: Object.freeze({ ...e.env }),
    ...(e.command ? { command: Object.freeze([...e.command]) } : {}),
    limits: {
      ...(e.memory !== undefined ? { memoryBytes: e.memory } : {}),
      ...(e.cpus !== undefined ? { cpus: e.cpus } : {}),
      ...(e.pids !== undefined ? { pidsLimit: e.pids } : {}),
    },
    ...(e.readOnly !== undefined ? { readOnly: e.readOnly } : {}),
    ...(e.user !== undefined ? { user: e.user } : {}),
    ...(e.dataPath !== undefined ? { dataPath: e.dataPath } : {}),
    ...(e.readiness !== undefined ? { readiness: e.readiness } : {}),
    ...(e.idleTimeout !== undefined ? { idleTimeoutMs: e.idleTimeout } : {}),
    ...(e.pauseAfter !== undefined ? { pauseAfterMs: e.pauseAfter } : {}),
    allowed: Array.isArray(e.allowed) ? Object.freeze([...e.allowed]) : e.allowed,
    default: e.default,
  };
}

/** The global idle times a template's own are checked against. */
export interface CatalogueDefaults {
  idleTimeoutMs: number;
  pauseAfterMs: number;
}

/** Reads and checks TEMPLATES_FILE; throws CatalogueError listing every problem. */
export function loadCatalogueFile(file: string, defaults: CatalogueDefaults): Template[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CatalogueError([`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  return parseCatalogue(text, file, defaults);
}

/** Parses catalogue text; `file` names the source in the messages. */
export function parseCatalogue(text: string, file: string, defaults: CatalogueDefaults): Template[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined) => (offset === undefined ? file : `${file}:${lines.linePos(offset).line}`);
  if (doc.errors.length > 0) {
    throw new CatalogueError(doc.errors.map((e) => `${at(e.pos[0])}: ${e.message.split('\n')[0]}`));
  }
  const parsed = catalogueSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const described = parsed.error.issues.map((issue) => describeIssue(issue, doc, lines));
    // In file order, so the operator can fix them top to bottom.
    described.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    throw new CatalogueError(described.map((d) => `${d.line === undefined ? file : `${file}:${d.line}`}: ${d.text}`));
  }
  const templates = parsed.data.templates;
  const problems: string[] = [];
  const seen = new Set<string>();
  templates.forEach((t, i) => {
    const where = `${at(nodeOffset(doc, ['templates', i, 'name']))}: templates[${i}]`;
    if (seen.has(t.name)) problems.push(`${where}.name: "${t.name}" is listed twice`);
    seen.add(t.name);
    const idle = t.idleTimeout ?? defaults.idleTimeoutMs;
    const pause = t.pauseAfter ?? defaults.pauseAfterMs;
    if (pause > 0 && idle > 0 && pause >= idle) {
      problems.push(`${where}.pauseAfter: must be shorter than the idle timeout (pausing comes first)`);
    }
  });
  const defaultsMarked = templates.filter((t) => t.default);
  if (defaultsMarked.length > 1) {
    problems.push(`${file}: templates: only one template may be the default (${defaultsMarked.map((t) => t.name).join(', ')})`);
  }
  const first = defaultsMarked[0] ?? templates[0];
  if (first && first.allowed !== 'everyone') {
    problems.push(`${file}: templates: the default template (${first.name}) must be allowed for everyone`);
  }
  if (problems.length > 0) throw new CatalogueError(problems);
  // Without an explicit default the first template is the default.
  return templates.map((t) => fromEntry({ ...t, default: t === first }));
}

type Issue = z.core.$ZodIssue;

function describeIssue(issue: Issue, doc: Document, lines: LineCounter): { line: number | undefined; text: string } {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
  const where = keys.length > 0 ? [...path, keys[0] as string] : path;
  const label = path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || 'file';
  const missing = issue.code === 'invalid_type' && / received undefined$/.test(issue.message);
  const message =
    keys.length > 0 ? `unknown field${keys.length > 1 ? 's' : ''} ${keys.join(', ')}` : missing ? 'is required' : issue.message;
  const offset = nodeOffset(doc, where, keys.length > 0);
  return { line: offset === undefined ? undefined : lines.linePos(offset).line, text: `${label}: ${message}` };
}

/** Where the value (or, for unknown keys, the key) at `path` starts; the nearest ancestor's when absent. */
function nodeOffset(doc: Document, path: (string | number)[], key = false): number | undefined {
  for (let n = path.length; n >= 0; n -= 1) {
    const sub = path.slice(0, n);
    if (key && n === path.length && n > 0) {
      const parent = sub.length > 1 ? doc.getIn(sub.slice(0, -1), true) : doc.contents;
      const pair = parentPair(parent, sub[sub.length - 1]);
      if (pair !== undefined) return pair;
      continue;
    }
    const node = n === 0 ? doc.contents : doc.getIn(sub, true);
    if (isNode(node) && node.range) return node.range[0];
  }
  return undefined;
}

function parentPair(parent: unknown, key: string | number | undefined): number | undefined {
  if (!parent || typeof parent !== 'object' || !('items' in parent)) return undefined;
  for (const item of (parent as { items: { key?: unknown }[] }).items) {
    const k = item.key;
    if (isNode(k) && 'value' in k && (k as { value: unknown }).value === key && k.range) return k.range[0];
  }
  return undefined;
}
