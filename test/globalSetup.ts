// Runs once per test run: checks that the Docker engine answers (tests never skip for lack of it),
// builds the test images and hands every test file a run id. Everything a test creates in Docker
// carries the label spawner.test-run=<id>; teardown removes exactly that, even after failures.
// In the PostgreSQL project (TEST_DATABASE=postgres) it also migrates the run's template database,
// which every test app copies, and teardown drops every database of the run.
import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { buildTestImages } from './helpers/testImage.js';
import { removeTestResources, dockerClient } from './helpers/docker.js';
import { prepareTemplateDatabase, dropRunDatabases } from './helpers/postgresTemplate.js';

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
  const postgres = project.config.env?.TEST_DATABASE === 'postgres';
  if (postgres) await prepareTemplateDatabase(runId);
  return async () => {
    await removeTestResources(runId);
    if (postgres) await dropRunDatabases(runId);
  };
}
