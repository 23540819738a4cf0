/**
 * Admission: at most `capacity` executions run at once; the rest wait, highest priority first and
 * first-come within a priority. A slot is released however a run ends.
 */
import { QUEUE_PRIORITIES, type QueuePriority } from '../../shared/domain/execution';

export interface Job {
  executionId: string;
  priority: QueuePriority;
}

export type CancelResult = 'dequeued' | 'running' | 'unknown';

export class ExecutionScheduler<J extends Job> {
  private readonly waiting = new Map<QueuePriority, Map<string, J>>(
    QUEUE_PRIORITIES.map((p) => [p, new Map()]),
  );
  private readonly running = new Set<string>();

  constructor(
    private capacity: number,
    /** Runs a job; the returned promise settles when its slot may be reused. */
    private readonly run: (job: J) => Promise<void>,
    private readonly onError: (job: J, error: unknown) => void,
  ) {}

  /** Queues a job; false when the execution is already waiting or running. */
  enqueue(job: J): boolean {
    if (this.has(job.executionId)) return false;
    this.waiting.get(job.priority)!.set(job.executionId, job);
    this.pump();
    return true;
  }

  /** A new limit: more admits waiting jobs at once; fewer lets running ones finish and admits none meanwhile. */
  setCapacity(capacity: number): void {
    if (capacity === this.capacity) return;
    this.capacity = capacity;
    this.pump();
  }

  has(executionId: string): boolean {
    return this.running.has(executionId) || [...this.waiting.values()].some((q) => q.has(executionId));
  }

  cancel(executionId: string): CancelResult {
    for (const queue of this.waiting.values()) if (queue.delete(executionId)) return 'dequeued';
    return this.running.has(executionId) ? 'running' : 'unknown';
  }

  get stats(): { running: number; waiting: number; capacity: number } {
    let waiting = 0;
    for (const queue of this.waiting.values()) waiting += queue.size;
    return { running: this.running.size, waiting, capacity: this.capacity };
  }

  private next(): J | undefined {
    for (const priority of QUEUE_PRIORITIES) {
      const queue = this.waiting.get(priority)!;
      const first = queue.values().next();
      if (!first.done) {
        queue.delete(first.value.executionId);
        return first.value;
      }
    }
    return undefined;
  }

  private pump(): void {
    while (this.running.size < this.capacity) {
      const job = this.next();
      if (!job) return;
      this.running.add(job.executionId);
      Promise.resolve()
        .then(() => this.run(job))
        .catch((error) => this.onError(job, error))
        .finally(() => {
          this.running.delete(job.executionId);
          this.pump();
        });
    }
  }
}
