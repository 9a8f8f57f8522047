// Finds Spawner's own folders (views/, public/, drizzle/) whether it runs from src/ or dist/src/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The folder holding package.json, found by walking up from this file. */
export function projectRoot(): string {
  if (root) return root;
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'views'))) return (root = dir);
  }
  throw new Error('Cannot find the Spawner project folder (package.json and views/)');
}
