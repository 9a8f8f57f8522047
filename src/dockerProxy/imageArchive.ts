// What an image load through the proxy may bring: only the Traefik nudge's image (its archive is a
// few kilobytes, src/containers/docker/nudgeImage.ts). A load names its tags in manifest.json, and a
// load that tagged an image `user-service-template:latest` would hand every new person the
// caller's image, so the archive is read before Docker sees it: plain files only, one manifest,
// every tag on the list.
import { NUDGE_IMAGE_TAG } from '../containers/docker/nudgeImage.js';
import { Refusal } from './shape.js';

export const LOADABLE_TAGS: readonly string[] = [NUDGE_IMAGE_TAG];

const BLOCK = 512;

function field(header: Buffer, start: number, length: number): string {
  const raw = header.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? raw.length : end).toString('utf8');
}

/** The archive's files by name; refuses links, long-name extensions and odd paths. */
function tarFiles(archive: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let offset = 0;
  while (offset + BLOCK <= archive.length) {
    const header = archive.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) break;
    const type = field(header, 156, 1);
    const prefix = field(header, 345, 155);
    const name = (prefix ? `${prefix}/` : '') + field(header, 0, 100);
    const size = parseInt(field(header, 124, 12).trim() || '0', 8);
    if (!Number.isSafeInteger(size) || size < 0) throw new Refusal('image archive: a bad size');
    const path = name.replace(/^(\.\/)+/, '').replace(/\/$/, '');
    if (path.startsWith('/') || path.split('/').includes('..')) throw new Refusal(`image archive: path ${name} not allowed`);
    if (type === '0' || type === '') {
      if (files.has(path)) throw new Refusal(`image archive: ${path} twice`);
      files.set(path, archive.subarray(offset + BLOCK, offset + BLOCK + size));
    } else if (type !== '5') {
      throw new Refusal(`image archive: entry type ${JSON.stringify(type)} not allowed (plain files only)`);
    }
    offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  return files;
}

/** Refuses (throws Refusal) an archive that is not the nudge image. */
export function checkImageArchive(archive: Buffer, allowedTags: readonly string[] = LOADABLE_TAGS): void {
  const files = tarFiles(archive);
  if (files.has('repositories')) throw new Refusal('image archive: the legacy repositories file is not allowed');
  const manifest = files.get('manifest.json');
  if (!manifest) throw new Refusal('image archive: no manifest.json');
  let entries: unknown;
  try {
    entries = JSON.parse(manifest.toString('utf8'));
  } catch {
    throw new Refusal('image archive: manifest.json is not JSON');
  }
  if (!Array.isArray(entries) || entries.length === 0) throw new Refusal('image archive: manifest.json lists no image');
  for (const entry of entries as { RepoTags?: unknown }[]) {
    const tags = entry?.RepoTags;
    if (!Array.isArray(tags) || tags.length === 0) throw new Refusal('image archive: every image must carry a tag');
    const other = tags.filter((tag) => typeof tag !== 'string' || !allowedTags.includes(tag));
    if (other.length > 0) throw new Refusal(`image archive: tags not allowed: ${other.map(String).join(', ')}`);
  }
}
