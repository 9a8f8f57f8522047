// Runs once per test run: checks that the Docker engine answers (tests never skip for lack of it),
// builds the test images and hands every test file a run id. Everything a test creates in Docker
// carries the label spawner.test-run=<id>; teardown removes exactly that, even after failures.
import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { buildTestImages } from './helpers/testImage.js';
import { removeTestResources, dockerClient } from './helpers/docker.js';

declare module 'vitest' {
  export interface ProvidedContext {
    runId: string;
  }
}

export default async function setup(project: TestProject) {
  try {
    await dockerClient().ping();
  } catch (error) {
    throw new Error(`The tests need a running Docker engine (${(error as Error).message}). Start dockerd, see README.`);
  }
  buildTestImages();
  const runId = randomBytes(4).toString('hex');
  project.provide('runId', runId);
  return async () => {
    await removeTestResources(runId);
  };
}
