import { describe, expect, it } from 'vitest';
import { chooseTemplate, choicesFor, templateOf } from '../../src/templates/access.js';
import type { Template } from '../../src/templates/catalogue.js';

const t = (name: string, allowed: Template['allowed'], isDefault = false): Template => ({
  name,
  title: name,
  description: '',
  image: `${name}:1`,
  port: 8080,
  env: {},
  limits: {},
  allowed,
  default: isDefault,
});
const list = [t('web', 'everyone', true), t('ide', 'admins'), t('lab', ['alice'])];
const person = (
  over: Partial<{ username: string; isAdmin: boolean; allowedTemplates: string[] | null; template: string | null }> = {},
) => ({
  username: 'bob',
  isAdmin: false,
  allowedTemplates: null,
  template: null,
  ...over,
});

describe('who may use which template', () => {
  it('when the catalogue decides, then everyone, admins and listed people get what it says', () => {
    expect(choicesFor(list, person()).map((x) => x.name)).toEqual(['web']);
    expect(choicesFor(list, person({ isAdmin: true })).map((x) => x.name)).toEqual(['web', 'ide']);
    expect(choicesFor(list, person({ username: 'alice' })).map((x) => x.name)).toEqual(['web', 'lab']);
  });

  it("when the admin set a person's list, then it replaces the catalogue's rule", () => {
    expect(choicesFor(list, person({ allowedTemplates: ['ide'] })).map((x) => x.name)).toEqual(['ide']);
    expect(choicesFor(list, person({ isAdmin: true, allowedTemplates: [] }))).toEqual([]);
  });

  it('when a name is sent, then only a catalogue name the person may use is accepted', () => {
    expect(chooseTemplate(list, 'web', person())).toMatchObject({ name: 'web' });
    expect(chooseTemplate(list, 'ide', person())).toBe('forbidden');
    expect(chooseTemplate(list, 'nosuch', person())).toBe('unknown');
    expect(chooseTemplate(list, 'web:1', person())).toBe('unknown');
    expect(chooseTemplate(list, ['web'], person())).toBe('unknown');
  });

  it('when the choice is gone or no longer allowed, then the default (or the first allowed) is used', () => {
    expect(templateOf(list, person({ template: 'lab', username: 'alice' })).name).toBe('lab');
    expect(templateOf(list, person({ template: 'lab' })).name).toBe('web');
    expect(templateOf(list, person({ template: 'removed' })).name).toBe('web');
    expect(templateOf(list, person({ allowedTemplates: ['ide'] })).name).toBe('ide');
  });
});
