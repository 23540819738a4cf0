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
  onResponse?(status: number, body: string): void;
}

export interface ArrivalRateResult {
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
  const total = Math.round(options.rate * options.seconds);
  const intervalMs = 1000 / options.rate;
  const result: ArrivalRateResult = { sent: 0, ok: 0, failed: 0, latencies: [] };
  const answered: Promise<void>[] = [];
  const start = performance.now();

  const send = (due: number) =>
    new Promise<void>((resolve) => {
      const request = http.request(
        options.url,
        { method: options.method, headers: options.headers, agent, timeout: 30_000 },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            result.latencies.push(performance.now() - due);
            if (status >= 200 && status < 300) result.ok++;
            else result.failed++;
            options.onResponse?.(status, Buffer.concat(chunks).toString('utf8'));
            resolve();
          });
        },
      );
      request.on('timeout', () => request.destroy(new Error('timed out')));
      request.on('error', () => {
        result.failed++;
        resolve();
      });
      request.end(options.body);
    });

  // A timer tick may be late; every request that has come due by then is sent at once, still timed
  // from its own due time.
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (result.sent < total && start + result.sent * intervalMs <= now) {
        answered.push(send(start + result.sent * intervalMs));
        result.sent++;
      }
      if (result.sent >= total) return resolve();
      setTimeout(tick, Math.max(0, start + result.sent * intervalMs - performance.now()));
    };
    tick();
  });
  await Promise.all(answered);
  agent.destroy();
  result.latencies.sort((a, b) => a - b);
  return result;
}
