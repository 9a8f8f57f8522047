// Who may use which template, and the one way a name a person sent becomes a template. A person
// only ever sends a template *name*; it is looked up in the operator's catalogue, so an image
// reference from a person is never used. The admin's per-person list (users.allowed_templates),
// when set, replaces the catalogue's `allowed:` rule for that person (it can grant an admins-only
// template as well as withhold one); null leaves the catalogue's rule.
import type { Template } from './catalogue.js';
import { TEMPLATE_NAME_RE } from './schema.js';

export interface TemplateUser {
  username: string;
  isAdmin: boolean;
  allowedTemplates: readonly string[] | null;
}

export function mayUse(template: Template, who: TemplateUser): boolean {
  if (who.allowedTemplates !== null) return who.allowedTemplates.includes(template.name);
  if (template.allowed === 'everyone') return true;
  if (template.allowed === 'admins') return who.isAdmin;
  return template.allowed.includes(who.username.toLowerCase());
}

/** The templates a person may choose, in catalogue order. */
export function choicesFor(list: readonly Template[], who: TemplateUser): Template[] {
  return list.filter((t) => mayUse(t, who));
}

export type ChoiceProblem = 'unknown' | 'forbidden';

/** A name a person sent: the template, or why it cannot be used. */
export function chooseTemplate(list: readonly Template[], sent: unknown, who: TemplateUser): Template | ChoiceProblem {
  if (typeof sent !== 'string' || !TEMPLATE_NAME_RE.test(sent)) return 'unknown';
  const template = list.find((t) => t.name === sent);
  if (!template) return 'unknown';
  return mayUse(template, who) ? template : 'forbidden';
}

/**
 * The template a person's container is built from: their choice while it is in the catalogue and
 * allowed, else the catalogue's default, else (an admin list without it) the first they may use.
 */
export function templateOf(list: readonly Template[], who: TemplateUser & { template: string | null }): Template {
  const chosen = who.template ? list.find((t) => t.name === who.template) : undefined;
  if (chosen && mayUse(chosen, who)) return chosen;
  const fallback = list.find((t) => t.default) ?? list[0];
  if (fallback && mayUse(fallback, who)) return fallback;
  const first = choicesFor(list, who)[0] ?? fallback;
  if (!first) throw new Error('the catalogue has no template');
  return first;
}
