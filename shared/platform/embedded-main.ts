/** `npm start`: the whole product in one process, on its embedded defaults. */
import path from 'node:path';
import { serve } from '@hono/node-server';
import { FUNCTIONS } from '../../functions/registry';
import { ensureBootstrapAccounts } from '../auth/bootstrap';
import { loadConfigOrExit } from '../config/config';
import { createEmbeddedPlatform } from './embedded';
import { createEmbeddedServer } from './embedded-server';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const platform = await createEmbeddedPlatform(config);
  const { log } = platform;
  const sandbox = await platform.sandbox.check();
  if (sandbox.ready)
    log.info('sandbox ready', { backend: platform.sandbox.backend, features: sandbox.features });
  else
    log.error('SANDBOX UNAVAILABLE: scripts will be refused until this is fixed', {
      problem: sandbox.problem,
    });
  log.info('runtimes', { runtimes: platform.sandbox.runtimes().map((r) => `${r.language} ${r.version}`) });

  const accounts = await ensureBootstrapAccounts(platform, {
    demo: config.DEMO_ACCOUNT,
    dataDir: path.resolve(config.DATA_DIR),
  });

  const app = createEmbeddedServer(platform, FUNCTIONS, { webRoot: config.WEB_ROOT });
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
    const url = `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${info.port}`;
    log.info('listening', { url, data_dir: path.resolve(config.DATA_DIR) });
    const lines = [`\n  Integr8sCode is running at ${url}`];
    if (accounts.demo) lines.push(`  Demo account: ${accounts.demo.username} / ${accounts.demo.password}`);
    process.stdout.write(`${lines.join('\n')}\n\n`);
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    server.close();
    await platform.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
