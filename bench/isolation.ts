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

/** Rules naming the isolated network's bridge (filter and nat tables): Docker adds them per network, never per container. */
function bridgeRules(bridge: string): number | null {
  try {
    const rules = (table: string) => execFileSync('iptables', ['-t', table, '-S'], { encoding: 'utf8' }).split('\n');
    return [...rules('filter'), ...rules('nat')].filter((line) => line.includes(bridge)).length;
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
    const bridge = `br-${((await ctx.docker.getNetwork(isolatedNet).inspect()) as { Id: string }).Id.slice(0, 12)}`;
    const benchNetworks = async () => (await ctx.docker.listNetworks({ filters: { label: [`${BENCH_LABEL}=${ctx.runId}`] } })).length;
    const [rulesBefore, networksBefore, memBefore] = [bridgeRules(bridge), await benchNetworks(), availableMiB()];
    /** `pairs` containers on each network, alternating, so load elsewhere on the machine hits both alike. */
    const interleaved = async (pairs: number) => {
      const sides = { isolated: [] as number[], flat: [] as number[] };
      for (let i = 0; i < pairs; i++) {
        sides.flat.push(await startOne(flat));
        sides.isolated.push(await startOne(isolatedNet));
      }
      return sides;
    };
    const early = await interleaved(compared);
    const t0 = performance.now();
    for (let people = compared; people < total - compared; people++) await startOne(isolatedNet);
    // The last stretch to `total` people on the isolated network, again beside flat ones.
    const late = await interleaved(compared);
    ctx.log(`isolation: ${total} containers on the isolated network (+${2 * compared} flat) in ${Math.round(since(t0) / 1000)} s more`);
    const [rulesAfter, networksAfter, memAfter] = [bridgeRules(bridge), await benchNetworks(), availableMiB()];

    const row = (id: string, what: string, sides: { isolated: number[]; flat: number[] }, note: string) => {
      const [on, off] = [summarize(sides.isolated), summarize(sides.flat)];
      ctx.rows.push({
        id,
        benchmark: what,
        target: 'median ratio ≤ 1.1',
        measured: `p50 ${on.p50.toFixed(0)} ms (p99 ${on.p99.toFixed(0)})`,
        baseline: `flat network p50 ${off.p50.toFixed(0)} ms (p99 ${off.p99.toFixed(0)})`,
        ratio: on.p50 / off.p50,
        pass: on.p50 / off.p50 <= 1.1,
        note,
      });
    };
    row(
      'isolation-start',
      'isolation: create+start on the isolated network vs a flat one, people 1–' + compared,
      early,
      `${compared} of each, interleaved one by one, sequential`,
    );
    row(
      'isolation-scale',
      `isolation at ${total} people: create+start of people ${total - compared + 1}–${total} vs a flat network at the same moment`,
      late,
      `besides the containers: ${networksAfter - networksBefore} Docker networks added, ` +
        `${rulesBefore === null || rulesAfter === null ? 'iptables not readable' : `${rulesAfter - rulesBefore} iptables rules added for the isolated bridge`}, ` +
        `host memory available ${Math.round(memBefore - memAfter)} MiB lower (${((memBefore - memAfter) / (total + 2 * compared)).toFixed(1)} MiB per container, shim and process included); ` +
        `Docker's own slow-down from the first ${compared} to the last (same on both networks): ${(summarize(late.flat).p50 / summarize(early.flat).p50).toFixed(2)}×`,
    );
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
