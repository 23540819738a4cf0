/** An HTTP endpoint on 127.0.0.1 that records what webhooks send it and answers as scripted. */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WebhookHit {
  /** performance.now() when the request had arrived whole. */
  at: number;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** What it was answered; null when it was left waiting. */
  status: number | null;
}

/** The answer to the request numbered `index` (0 for the first); null leaves it unanswered. */
export type WebhookScript = (index: number) => { status: number; headers?: Record<string, string> } | null;

export interface WebhookReceiver {
  url: string;
  port: number;
  hits: WebhookHit[];
  close(): Promise<void>;
}

/** Answers `statuses` in turn (the last one from then on), or whatever `script` says. */
export async function startWebhookReceiver(
  answers: readonly number[] | WebhookScript,
): Promise<WebhookReceiver> {
  const script: WebhookScript =
    typeof answers === 'function'
      ? answers
      : (index) => ({ status: answers[Math.min(index, answers.length - 1)]! });
  const hits: WebhookHit[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const answer = script(hits.length);
      hits.push({
        at: performance.now(),
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body,
        status: answer?.status ?? null,
      });
      if (answer) response.writeHead(answer.status, answer.headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/integr8s`,
    port,
    hits,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
