// The Traefik nudge container's own image, made by Spawner at first use and never pulled: one
// layer holding one static executable of about 130 bytes that exits at once (all the nudge needs
// is the start and die events). The executable and the image archive (`docker save` format) are
// written here byte by byte for the engine's CPU and handed to the engine's image load, so it
// works offline, without a build step, and through the compose file's socket proxy (which allows
// the images section but not builds). Nothing of a person's template is used. Engines on other
// CPUs than amd64 and arm64 name an image in NUDGE_IMAGE instead.
import { createHash } from 'node:crypto';
import type { DockerEngine } from './engine.js';

export const NUDGE_IMAGE_TAG = 'spawner-nudge:1';

/** exit(0) for each CPU: x86-64 `xor edi,edi; mov eax,60; syscall`, arm64 `mov x0,0; mov x8,93; svc 0`. */
const EXIT_CODE: Record<string, { machine: number; code: number[] }> = {
  amd64: { machine: 0x3e, code: [0x31, 0xff, 0xb8, 0x3c, 0x00, 0x00, 0x00, 0x0f, 0x05] },
  arm64: { machine: 0xb7, code: [0x00, 0x00, 0x80, 0xd2, 0xa8, 0x0b, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4] },
};

/** A minimal static ELF64 executable: the header, one loadable segment, the code. */
export function exitExecutable(architecture: string): Buffer | null {
  const target = EXIT_CODE[architecture];
  if (!target) return null;
  const base = 0x400000n;
  const headerSize = 64 + 56;
  const file = Buffer.alloc(headerSize + target.code.length);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]).copy(file, 0);
  file.writeUInt16LE(2, 16); // ET_EXEC
  file.writeUInt16LE(target.machine, 18);
  file.writeUInt32LE(1, 20);
  file.writeBigUInt64LE(base + BigInt(headerSize), 24); // entry point
  file.writeBigUInt64LE(64n, 32); // program headers right after this header
  file.writeUInt16LE(64, 52);
  file.writeUInt16LE(56, 54);
  file.writeUInt16LE(1, 56);
  file.writeUInt32LE(1, 64); // PT_LOAD
  file.writeUInt32LE(5, 68); // readable, executable
  file.writeBigUInt64LE(base, 80);
  file.writeBigUInt64LE(base, 88);
  file.writeBigUInt64LE(BigInt(file.length), 96);
  file.writeBigUInt64LE(BigInt(file.length), 104);
  file.writeBigUInt64LE(0x10000n, 112);
  Buffer.from(target.code).copy(file, headerSize);
  return file;
}

/** One regular file in a ustar archive (header block, content padded to 512 bytes). */
function tarEntry(name: string, content: Buffer, mode: number): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write(`${mode.toString(8).padStart(7, '0')}\0`, 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${content.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\u000000', 257);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, padding]);
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** An image archive as `docker load` reads it: manifest, image config, one layer. */
export function nudgeImageArchive(executable: Buffer, architecture: string, labels: Record<string, string>): Buffer {
  const layer = Buffer.concat([tarEntry('nudge', executable, 0o755), Buffer.alloc(1024)]);
  const layerId = sha256(layer);
  const config = Buffer.from(
    JSON.stringify({
      architecture,
      os: 'linux',
      created: '1970-01-01T00:00:00Z',
      config: { Entrypoint: ['/nudge'], User: '65534:65534', Labels: labels },
      rootfs: { type: 'layers', diff_ids: [`sha256:${layerId}`] },
      history: [{ created: '1970-01-01T00:00:00Z', created_by: 'Spawner (src/containers/docker/nudgeImage.ts)' }],
    }),
  );
  const configName = `${sha256(config)}.json`;
  const manifest = Buffer.from(JSON.stringify([{ Config: configName, RepoTags: [NUDGE_IMAGE_TAG], Layers: [`${layerId}/layer.tar`] }]));
  return Buffer.concat([
    tarEntry(configName, config, 0o644),
    tarEntry(`${layerId}/layer.tar`, layer, 0o644),
    tarEntry('manifest.json', manifest, 0o644),
    Buffer.alloc(1024),
  ]);
}

/** Loads the nudge image unless the engine has it already; returns its tag. */
export async function ensureNudgeImage(engine: Pick<DockerEngine, 'inspectImage' | 'architecture' | 'loadImage'>): Promise<string> {
  if (await engine.inspectImage(NUDGE_IMAGE_TAG)) return NUDGE_IMAGE_TAG;
  const architecture = await engine.architecture();
  const executable = exitExecutable(architecture);
  if (!executable) throw new Error(`no built-in nudge executable for ${architecture}; set NUDGE_IMAGE to an image that starts and exits`);
  await engine.loadImage(nudgeImageArchive(executable, architecture, { 'spawner.nudge': 'true' }));
  return NUDGE_IMAGE_TAG;
}
