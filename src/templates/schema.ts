// The shape of one catalogue entry in TEMPLATES_FILE, checked field by field so that every problem
// of the file is reported at once with its path (the catalogue turns paths into file:line).
// Values arrive as YAML gives them (numbers or strings), and leave converted to the plan's units.
import { z } from 'zod';
import { IMAGE_RE } from '../config/fields.js';
import { parseByteSize, parseDuration } from '../units.js';

export const TEMPLATE_NAME_RE = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
const ENV_KEY_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const USERNAME_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/i;
const DATA_PATH_RE = /^\/[a-zA-Z0-9_./-]*$/;
const HTTP_PATH_RE = /^\/[\x21-\x7e]*$/;
const USER_RE = /^[1-9]\d{0,9}(:\d{1,10})?$/;

/** A YAML scalar as text: 512m and 512 both arrive, the unit parsers read text. */
const scalarText = z.union([z.string(), z.number()]).transform((v) => String(v).trim());

const byteSize = scalarText.transform((v, ctx) => {
  const n = parseByteSize(v);
  if (n === null || n < 4 * 1024 * 1024) {
    ctx.addIssue({ code: 'custom', message: `must be a size of at least 4m such as 512m or 1g (got "${v}")` });
    return z.NEVER;
  }
  return n;
});

const duration = scalarText.transform((v, ctx) => {
  const n = parseDuration(v);
  if (n === null) {
    ctx.addIssue({ code: 'custom', message: `must be seconds or a duration such as 30m (0 turns it off) (got "${v}")` });
    return z.NEVER;
  }
  return n;
});

const readiness = z.union([z.literal('healthcheck'), z.strictObject({ http: z.string().regex(HTTP_PATH_RE) })], {
  error: 'must be healthcheck or { http: /path } such as { http: /healthz }',
});

const allowed = z.union([z.literal('everyone'), z.literal('admins'), z.array(z.string().regex(USERNAME_RE)).min(1)], {
  error: 'must be everyone, admins or a list of usernames such as [alice, bob]',
});

const whole = (min: number, max: number) =>
  z
    .number({ error: `must be a whole number from ${min} to ${max}` })
    .int(`must be a whole number from ${min} to ${max}`)
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

const envMap = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean()], { error: 'must be a string, number or true/false' }).transform(String))
  .superRefine((env, ctx) => {
    for (const key of Object.keys(env)) {
      if (!ENV_KEY_RE.test(key))
        ctx.addIssue({ code: 'custom', path: [key], message: 'must be an environment variable name such as MY_SETTING' });
      else if (key.startsWith('SPAWNER_'))
        ctx.addIssue({ code: 'custom', path: [key], message: 'SPAWNER_* variables are set by Spawner itself' });
    }
  });

export const templateSchema = z.strictObject({
  name: z.string().regex(TEMPLATE_NAME_RE, 'must be a lowercase slug such as python-3 (up to 32 characters)'),
  title: z.string().trim().min(1, 'must not be empty').max(80, 'must be at most 80 characters'),
  description: z.string().trim().max(300, 'must be at most 300 characters').default(''),
  image: z.string().regex(IMAGE_RE, 'must be a Docker image reference such as user-service-template:latest'),
  port: whole(1, 65535),
  env: envMap.default({}),
  command: z.array(z.string()).min(1, 'must list the program and its arguments').optional(),
  memory: byteSize.optional(),
  cpus: z.number().min(0.01, 'must be at least 0.01').max(256, 'must be at most 256').optional(),
  pids: whole(16, 100_000).optional(),
  readOnly: z.boolean().optional(),
  user: z.string().regex(USER_RE, 'must be a non-root uid or uid:gid such as 1000:1000').optional(),
  dataPath: z.string().regex(DATA_PATH_RE, 'must be an absolute path inside the container').optional(),
  readiness: readiness.optional(),
  idleTimeout: duration.optional(),
  pauseAfter: duration.optional(),
  allowed: allowed.default('everyone'),
  default: z.boolean().default(false),
});

export const catalogueSchema = z.strictObject({
  templates: z.array(templateSchema).min(1, 'must list at least one template'),
});

export type TemplateEntry = z.output<typeof templateSchema>;
