/**
 * Live task progress from Meshy's SSE streams: one stream per running task, read in the background,
 * keeping the latest state for the next step of the job. A stream that drops, goes silent or reports
 * an error is not reopened: that task falls back to polling. Nothing here is needed to resume a job.
 */
import type { Logger } from '../../spec/adapter.js';
import type { Clock } from '../../spec/clock.js';
import { TERMINAL, type MeshyClient, type MeshyTask, type TaskKind } from './client.js';

interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/** Parses a text/event-stream body (WHATWG rules: `event`, `data` lines joined by \n, `id`, comments, blank line dispatches). */
export async function* readSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  const dispatch = (): SseEvent | undefined => {
    const out = data.length ? { event: event || 'message', data: data.join('\n'), id } : undefined;
    event = '';
    data = [];
    return out;
  };
  const lineOf = (line: string): SseEvent | undefined => {
    if (line === '') return dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
    return undefined;
  };
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let m: RegExpExecArray | null;
    const re = /\r\n|\n|\r(?!$)/g;
    let start = 0;
    while ((m = re.exec(buffer)) !== null) {
      const ev = lineOf(buffer.slice(start, m.index));
      start = m.index + m[0].length;
      if (ev) yield ev;
    }
    buffer = buffer.slice(start);
  }
  // A stream that ends without a final blank line: what is pending is dropped, as the spec says.
}

/** What the stream of one task has told so far. */
interface LiveTask {
  /** The latest task state (partial while running: id, status, progress). */
  task?: Partial<MeshyTask> & { status?: string };
  /** The stream is still open and has been heard from recently. */
  alive: boolean;
  /** Why it ended: a terminal event, a drop, or an `error` event (e.g. 404 task not found). */
  ended?: 'terminal' | 'dropped' | 'error';
}

type Entry = LiveTask & { lastEventAt: number; controller: AbortController };

/** The live streams of one adapter. */
export class TaskStreams {
  private readonly live = new Map<string, Entry>();

  constructor(
    private readonly client: MeshyClient,
    private readonly log: Logger,
    /** A stream silent for `idleMs` on `clock` is treated as dropped. */
    private readonly opts: { idleMs: number; clock: Clock },
  ) {}

  /** The live state of a task, opening its stream on first sight. */
  watch(kind: TaskKind, id: string): LiveTask {
    const existing = this.live.get(id);
    if (existing) {
      if (existing.alive && this.opts.clock.now() - existing.lastEventAt > this.opts.idleMs) this.end(existing, 'dropped');
      return existing;
    }
    const entry: Entry = { alive: true, lastEventAt: this.opts.clock.now(), controller: new AbortController() };
    this.live.set(id, entry);
    void this.consume(kind, id, entry);
    return entry;
  }

  private end(entry: Entry, why: NonNullable<LiveTask['ended']>): void {
    if (!entry.alive) return;
    entry.alive = false;
    entry.ended = why;
    entry.controller.abort();
  }

  private async consume(kind: TaskKind, id: string, entry: Entry): Promise<void> {
    try {
      const body = await this.client.openStream(kind, id, entry.controller.signal);
      for await (const ev of readSse(body)) {
        entry.lastEventAt = this.opts.clock.now();
        let data: Record<string, unknown>;
        try {
          data = JSON.parse(ev.data) as Record<string, unknown>;
        } catch {
          continue; // one unreadable event does not end the stream
        }
        if (ev.event === 'error') {
          this.end(entry, 'error');
          return;
        }
        if (typeof data.status !== 'string') continue;
        entry.task = { ...entry.task, ...(data as Partial<MeshyTask>) };
        if (TERMINAL.has(data.status)) {
          this.end(entry, 'terminal');
          return;
        }
      }
      this.end(entry, 'dropped');
    } catch (err) {
      if (entry.alive) this.log.debug({ task: id, err: String(err) }, 'meshy stream ended; polling instead');
      this.end(entry, 'dropped');
    }
  }

  /** Stops watching a task. */
  stop(id: string): void {
    const entry = this.live.get(id);
    if (entry) {
      this.end(entry, 'dropped');
      this.live.delete(id);
    }
  }

  stopAll(): void {
    for (const id of [...this.live.keys()]) this.stop(id);
  }
}
