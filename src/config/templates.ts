// TEMPLATES_FILE: the operator's catalogue of templates (see src/templates/). Without it the
// container settings define the single template `default`, so today's configuration is unchanged.
import { z } from 'zod';
import { CatalogueError, defaultTemplate, loadCatalogueFile, type Template } from '../templates/catalogue.js';

export const templatesEnv = {
  TEMPLATES_FILE: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim())),
};

export interface TemplatesConfig {
  /** The file the catalogue came from; undefined: the single `default` template. */
  file: string | undefined;
  /** Never empty; exactly one has `default: true`. */
  list: readonly Template[];
}

/** The catalogue, or the problems that keep it from loading (reported with the other settings'). */
export function resolveTemplates(
  file: string | undefined,
  containers: { image: string; port: number; idleTimeoutMs: number; pauseAfterMs: number },
): { templates: TemplatesConfig } | { problems: string[] } {
  if (file === undefined) return { templates: { file, list: [defaultTemplate(containers)] } };
  try {
    return { templates: { file, list: loadCatalogueFile(file, containers) } };
  } catch (error) {
    if (error instanceof CatalogueError) return { problems: error.problems.map((p) => `TEMPLATES_FILE: ${p}`) };
    throw error;
  }
}
