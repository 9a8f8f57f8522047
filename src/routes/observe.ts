// The dashboard's live parts: spawn progress and the container's log, both server-sent events
// (URLs and guards: routes/index.ts). A person watches their own; an admin may watch anyone's log.
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { Forbidden, NotFound, TooManyRequests, ValidationError } from '../errors.js';
import type { UserStore } from '../db/stores.js';
import type { ProgressEvent, SpawnProgress } from '../lifecycle/progress.js';
import { DEFAULT_TAIL, MAX_TAIL, type LiveLogs } from '../logs/liveLogs.js';
import { openEventStream } from '../sse/eventStream.js';

export interface ObserveHandlerDeps {
  progress: SpawnProgress;
  logs: LiveLogs;
  users: Pick<UserStore, 'findById' | 'findByUsername'>;
}

const logQuery = z.object({
  tail: z.coerce.number().int().min(0).max(MAX_TAIL).default(DEFAULT_TAIL),
  /** An admin's look at someone else's log; the person's own when absent. */
  user: z.string().min(1).max(64).optional(),
});

export function observeHandlers(deps: ObserveHandlerDeps) {
  /** The person's spawn steps so far, then each new one as it happens. */
  const progress: RequestHandler = (req, res) => {
    const person = req.user!;
    // Subscribed before the stream opens (so a refusal is still a 429); nothing arrives in between.
    let send: (event: ProgressEvent) => void = () => undefined;
    const unsubscribe = deps.progress.subscribe(person.id, (event) => send(event));
    if (!unsubscribe) throw new TooManyRequests('Too many pages are following this service.', 5);
    const events = openEventStream(req, res);
    send = (event) => void events.send('progress', event);
    events.onClose(unsubscribe);
    for (const event of deps.progress.history(person.id)) events.send('progress', event);
  };

  /** GET /dashboard/logs?tail=N[&user=name]: the person's own container log, live (anyone's for an admin). */
  const logs: RequestHandler = async (req, res) => {
    const viewer = req.user!;
    const parsed = logQuery.safeParse(req.query);
    if (!parsed.success) throw new ValidationError({ tail: `tail must be a whole number from 0 to ${MAX_TAIL}.` });
    const name = parsed.data.user ?? viewer.username;
    let owner = name === viewer.username ? viewer : undefined;
    if (!owner) {
      const [me, them] = await Promise.all([deps.users.findById(viewer.id), deps.users.findByUsername(name)]);
      // A non-admin learns nothing about other names: the same 403 whether the account exists.
      if (!me?.isAdmin) throw new Forbidden(`${viewer.username} asked for ${name}'s log`, { publicMessage: 'This log is not yours.' });
      if (!them) throw new NotFound(`no account ${name}`);
      owner = them;
    }
    const lastEventId = req.get('last-event-id');
    await deps.logs.stream(req, res, {
      person: owner,
      tail: parsed.data.tail,
      after: lastEventId && lastEventId.length <= 64 ? lastEventId : undefined,
    });
  };

  return { progress, logs };
}
