// What tenant isolation costs (README "Tenant isolation"): people share one bridge network with
// container-to-container traffic off, so a person adds a container and nothing else. Measured here
// on the real engine: create+start on the isolated network against a flat one, interleaved in the
// same run; the same at the thousandth container as at the first; and what the host gains per
// person besides the container (networks, iptables rules: none).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { TEST_IMAGE } from '../test/helpers/testImage.js';
import { BENCH_LABEL, type BenchContext } from './lib/context.js';
import { since, summarize } from './lib/stats.js';

/** Rules in the filter and nat tables: Docker adds rules per network, never per container here. */
function iptablesRules(): number | null {
  try {
    return ['filter', 'nat'].reduce(
      (n, table) => n + execFileSync('iptables', ['-t', table, '-S'], { encoding: 'utf8' }).split('\n').length,
      0,
    );
  } catch {
    return null;
  }
}

function availableMiB(): number {
  const line = readFileSync('/proc/meminfo', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('MemAvailable:'));
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024;
}

export async function benchIsolation(ctx: BenchContext): Promise<void> {
  const total = ctx.size(1000, 200);
  const compared = ctx.size(100, 40);
  // Both with room for every container (Docker's pool here hands out /24s: 253 addresses), as
  // CONTAINER_SUBNET gives people's network; alike but for the isolation switch.
  const isolatedNet = `${ctx.network}-iso`;
  const flat = `${ctx.network}-flat`;
  const network = (name: string, subnet: string, options: Record<string, string>) =>
    ctx.docker.createNetwork({
      Name: name,
      Driver: 'bridge',
      Labels: { [BENCH_LABEL]: ctx.runId },
      Options: options,
      IPAM: { Driver: 'default', Config: [{ Subnet: subnet }] },
    });
  await network(isolatedNet, '10.213.0.0/20', { 'com.docker.network.bridge.enable_icc': 'false' });
  await network(flat, '10.213.16.0/20', {});
  let n = 0;
  /** create + start of one small container, like a person's (256 MiB, no capabilities), in ms. */
  const startOne = async (network: string): Promise<number> => {
    const t0 = performance.now();
    const container = await ctx.docker.createContainer({
      name: `spawner-bench-${ctx.runId}-iso-${n++}`,
      Image: TEST_IMAGE,
      Labels: { [BENCH_LABEL]: ctx.runId },
      HostConfig: { NetworkMode: network, Memory: 256 * 1024 * 1024, CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'] },
    });
    await container.start();
    return since(t0);
  };
  try {
    const [rulesBefore, networksBefore, memBefore] = [iptablesRules(), (await ctx.docker.listNetworks()).length, availableMiB()];
    const isolated: number[] = [];
    const flatSamples: number[] = [];
    // Interleaved, so load elsewhere on the machine hits both alike.
    for (let i = 0; i < compared; i++) {
      flatSamples.push(await startOne(flat));
      isolated.push(await startOne(isolatedNet));
    }
    const t0 = performance.now();
    while (isolated.length < total) isolated.push(await startOne(isolatedNet));
    ctx.log(`isolation: ${total} containers on the isolated network (+${compared} flat) in ${Math.round(since(t0) / 1000)} s more`);
    const [rulesAfter, networksAfter, memAfter] = [iptablesRules(), (await ctx.docker.listNetworks()).length, availableMiB()];

    const first = summarize(isolated.slice(0, compared));
    const flatSummary = summarize(flatSamples);
    const last = summarize(isolated.slice(-compared));
    ctx.rows.push({
      id: 'isolation-start',
      benchmark: 'isolation: create+start of a container on the isolated network vs a flat one',
      target: 'median ratio ≤ 1.1',
      measured: `p50 ${first.p50.toFixed(0)} ms (p99 ${first.p99.toFixed(0)})`,
      baseline: `flat network p50 ${flatSummary.p50.toFixed(0)} ms (p99 ${flatSummary.p99.toFixed(0)})`,
      ratio: first.p50 / flatSummary.p50,
      pass: first.p50 / flatSummary.p50 <= 1.1,
      note: `${compared} of each, interleaved one by one, sequential`,
    });
    ctx.rows.push({
      id: 'isolation-scale',
      benchmark: `isolation at ${total} people: create+start of containers ${total - compared + 1}–${total} vs 1–${compared}`,
      target: 'median ratio ≤ 1.5',
      measured: `p50 ${last.p50.toFixed(0)} ms (p99 ${last.p99.toFixed(0)})`,
      baseline: `first ${compared}: p50 ${first.p50.toFixed(0)} ms`,
      ratio: last.p50 / first.p50,
      pass: last.p50 / first.p50 <= 1.5,
      note:
        `besides the containers: ${networksAfter - networksBefore} Docker networks added, ` +
        `${rulesBefore === null || rulesAfter === null ? 'iptables not readable' : `${rulesAfter - rulesBefore} iptables rules added`}, ` +
        `host memory available ${Math.round(memBefore - memAfter)} MiB lower (${((memBefore - memAfter) / (total + compared)).toFixed(1)} MiB per container, shim and process included)`,
    });
  } finally {
    await ctx.removeContainers();
    for (const name of [isolatedNet, flat]) {
      await ctx.docker
        .getNetwork(name)
        .remove()
        .catch(() => undefined);
    }
  }
}
