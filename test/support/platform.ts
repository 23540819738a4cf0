/** A real embedded platform in a throw-away data directory, for tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../shared/config/config';
import {
  createEmbeddedPlatform,
  type EmbeddedOptions,
  type EmbeddedPlatform,
} from '../../shared/platform/embedded';

export type TestPlatform = EmbeddedPlatform;

export async function createTestPlatform(
  env: Record<string, string> = {},
  options: EmbeddedOptions = {},
): Promise<TestPlatform> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'integr8scode-test-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    RATE_LIMIT_ENABLED: 'false',
    DEMO_ACCOUNT: 'false',
    ...env,
  });
  const platform = await createEmbeddedPlatform(config, options);
  return {
    ...platform,
    async close() {
      await platform.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
