/**
 * The account's cap on queued Meshy tasks, kept on our side: a task may be created only while fewer than
 * `cap` of ours are pending or running at Meshy; the rest wait here in arrival order instead of
 * collecting 429 NoMoreConcurrentTasks. Process-wide per account (base URL + key), as Meshy counts them.
 * Callers hand in the time (`now`, epoch ms), so the slots follow whatever clock the adapter runs on.
 */

interface Waiter {
  key: string;
  seenAt: number;
}

/** A waiter not heard from for this long (its job died without cleanup) loses its place. */
const STALE_WAITER_MS = 120_000;

export class TaskSlots {
  private readonly held = new Set<string>();
  private readonly waiting: Waiter[] = [];
  /** Most slots ever held at once (for tests and logs). */
  peak = 0;

  constructor(public cap: number) {}

  /** Takes a slot for `key` when one is free and no earlier waiter is owed it; else queues `key`. */
  tryAcquire(key: string, now: number): boolean {
    if (this.held.has(key)) return true;
    this.prune(now);
    let i = this.waiting.findIndex((w) => w.key === key);
    if (i < 0) i = this.waiting.push({ key, seenAt: now }) - 1;
    else this.waiting[i].seenAt = now;
    if (i < this.cap - this.held.size) {
      this.waiting.splice(i, 1);
      this.take(key);
      return true;
    }
    return false;
  }

  /** Records a slot for a task that already exists at Meshy (a resumed job), free or not. */
  claim(key: string): void {
    if (this.held.has(key)) return;
    const i = this.waiting.findIndex((w) => w.key === key);
    if (i >= 0) this.waiting.splice(i, 1);
    this.take(key);
  }

  private take(key: string): void {
    this.held.add(key);
    this.peak = Math.max(this.peak, this.held.size);
  }

  release(key: string): void {
    this.held.delete(key);
  }

  /** Drops every slot and place of keys starting with `prefix` (a finished, failed or cancelled job). */
  forget(prefix: string): void {
    for (const k of [...this.held]) if (k.startsWith(prefix)) this.held.delete(k);
    for (let i = this.waiting.length - 1; i >= 0; i--) if (this.waiting[i].key.startsWith(prefix)) this.waiting.splice(i, 1);
  }

  /** Waiters ahead of `key` (0 = next), or undefined when it is not waiting. */
  position(key: string): number | undefined {
    const i = this.waiting.findIndex((w) => w.key === key);
    return i < 0 ? undefined : i;
  }

  inUse(): number {
    return this.held.size;
  }

  private prune(now: number): void {
    for (let i = this.waiting.length - 1; i >= 0; i--) if (now - this.waiting[i].seenAt > STALE_WAITER_MS) this.waiting.splice(i, 1);
  }
}

const ACCOUNTS = new Map<string, TaskSlots>();

/** The slots of one Meshy account in this process (the cap follows the latest configuration). */
export function slotsFor(account: string, cap: number): TaskSlots {
  let slots = ACCOUNTS.get(account);
  if (!slots) {
    slots = new TaskSlots(cap);
    ACCOUNTS.set(account, slots);
  }
  slots.cap = cap;
  return slots;
}
