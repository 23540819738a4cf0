/**
 * Runs a handler for the newest item of each key, one at a time per key and a bounded number at once:
 * a pod's changes are handled in order and never two at a time, and a change that arrives while an older
 * one is waiting replaces it (only the newest state of a pod matters).
 */
export class LatestPerKey<T> {
  private readonly waiting = new Map<string, T>();
  private readonly busy = new Set<string>();
  private readonly ready: string[] = [];
  private active = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly handle: (key: string, item: T) => Promise<void>,
  ) {}

  push(key: string, item: T): void {
    const queued = this.waiting.has(key);
    this.waiting.set(key, item);
    if (!queued && !this.busy.has(key)) this.ready.push(key);
    this.pump();
  }

  /** Items waiting or being handled. */
  get size(): number {
    return this.waiting.size + this.active;
  }

  /** Resolves once nothing is waiting or being handled. */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.active < this.concurrency && this.ready.length > 0) {
      const key = this.ready.shift()!;
      const item = this.waiting.get(key) as T;
      this.waiting.delete(key);
      this.busy.add(key);
      this.active++;
      void this.handle(key, item)
        .catch(() => {}) // the handler reports its own failures
        .finally(() => {
          this.active--;
          this.busy.delete(key);
          if (this.waiting.has(key)) this.ready.push(key);
          this.pump();
          if (this.size === 0) {
            const waiters = this.idleWaiters;
            this.idleWaiters = [];
            for (const resolve of waiters) resolve();
          }
        });
    }
  }
}
