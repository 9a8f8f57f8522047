// Small checks on parsed JSON bodies, shared by the proxy's body rules. Docker decodes bodies with
// Go's encoding/json, which matches field names case-insensitively (and folds ſ to s, K to k), so a
// key the rules do not know exactly could still reach a field Docker knows: every object the rules
// look at allows only keys spelled exactly as listed, and anything else is a refusal.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Why a body is refused; thrown by the checks and turned into a 403 by the policy. */
export class Refusal extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'Refusal';
  }
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value as an object; absent and null count as an empty one. */
export function objectAt(value: Json | undefined, where: string): JsonObject {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw new Refusal(`${where} must be an object`);
  return value;
}

/** Refuses keys not in the list (exact spelling only, see the first comment). */
export function onlyKeys(value: JsonObject, allowed: readonly string[], where: string): void {
  const unknown = Object.keys(value).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) throw new Refusal(`${where}: ${unknown.join(', ')} not allowed`);
}

/** Empty means absent, null, false, 0, '', [] or {}: what Docker treats as "not set". */
export function isEmpty(value: Json | undefined): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  return isObject(value) && Object.keys(value).length === 0;
}

export function stringList(value: Json | undefined, where: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw new Refusal(`${where} must be a list of strings`);
  return value as string[];
}

export function stringMap(value: Json | undefined, where: string): Record<string, string> {
  const map = objectAt(value, where);
  if (Object.values(map).some((item) => typeof item !== 'string')) throw new Refusal(`${where} must map strings to strings`);
  return map as Record<string, string>;
}

export function optionalString(value: Json | undefined, where: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new Refusal(`${where} must be a string`);
  return value;
}

export function optionalBoolean(value: Json | undefined, where: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new Refusal(`${where} must be true or false`);
  return value;
}

export function optionalNumber(value: Json | undefined, where: string): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Refusal(`${where} must be a number`);
  return value;
}
