/**
 * Open-loop load at a constant arrival rate, as k6's `constant-arrival-rate` executor makes it: one
 * request every 1/rate seconds whatever the answers do, over at most `connections` keep-alive sockets.
 * autocannon's rate option is a per-second budget per connection, which every connection spends at the
 * start of each second, so "300 req/s" there is a burst of 300 then silence. Latency is measured from
 * when a request was due, so time spent waiting for a free socket counts (no coordinated omission).
 */
import http from 'node:http';

export interface ArrivalRateOptions {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  rate: number;
  seconds: number;
  connections: number;
  /**
   * Seconds sent at the same rate before the measured ones, over the same sockets, and not timed: the
   * connections are open and the server's pools are at their working size when timing starts.
   */
  warmupSeconds?: number;
  onResponse?(status: number, body: string): void;
}

export interface ArrivalRateResult {
  /** Timed requests sent (warm-up excluded). */
  sent: number;
  /** Answered with 2xx. */
  ok: number;
  failed: number;
  /** Milliseconds from each request's due time to its full answer, sorted. */
  latencies: number[];
}

/** Sends `rate × seconds` requests on schedule and resolves when the last one is answered. */
export async function runAtArrivalRate(options: ArrivalRateOptions): Promise<ArrivalRateResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
  const untimed = Math.round(options.rate * (options.warmupSeconds ?? 0));
  const total = untimed + Math.round(options.rate * options.seconds);
  const intervalMs = 1000 / options.rate;
  const result: ArrivalRateResult = { sent: 0, ok: 0, failed: 0, latencies: [] };
  let sent = 0;
  const answered: Promise<void>[] = [];
  const start = performance.now();

  const send = (due: number, timed: boolean) =>
    new Promise<void>((resolve) => {
      const request = http.request(
        options.url,
        { method: options.method, headers: options.headers, agent, timeout: 30_000 },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            options.onResponse?.(status, Buffer.concat(chunks).toString('utf8'));
            if (!timed) return resolve();
            result.latencies.push(performance.now() - due);
            if (status >= 200 && status < 300) result.ok++;
            else result.failed++;
            resolve();
          });
        },
      );
      request.on('timeout', () => request.destroy(new Error('timed out')));
      request.on('error', () => {
        if (timed) result.failed++;
        resolve();
      });
      request.end(options.body);
    });

  // A timer tick may be late; every request that has come due by then is sent at once, still timed
  // from its own due time.
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * intervalMs <= now) {
        answered.push(send(start + sent * intervalMs, sent >= untimed));
        sent++;
      }
      if (sent >= total) return resolve();
      setTimeout(tick, Math.max(0, start + sent * intervalMs - performance.now()));
    };
    tick();
  });
  await Promise.all(answered);
  agent.destroy();
  result.sent = total - untimed;
  result.latencies.sort((a, b) => a - b);
  return result;
}
