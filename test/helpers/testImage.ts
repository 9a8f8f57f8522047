// Builds the busybox test template images (seconds; Docker caches the layers).
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEST_IMAGE = 'spawner-test-template:latest';
export const TEST_IMAGE_HEALTHCHECK = 'spawner-test-template:healthcheck';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'template-image');

export function buildTestImages(): void {
  const context = mkdtempSync(join(tmpdir(), 'spawner-test-image-'));
  try {
    cpSync(FIXTURE, context, { recursive: true });
    copyFileSync('/bin/busybox', join(context, 'busybox'));
    const build = (file: string, tag: string) =>
      execFileSync('docker', ['build', '-q', '-f', join(context, file), '-t', tag, context], { stdio: ['ignore', 'pipe', 'pipe'] });
    build('Dockerfile', TEST_IMAGE);
    build('Dockerfile.healthcheck', TEST_IMAGE_HEALTHCHECK);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}
