import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/config';
import { createLogger } from '../log';
import { isPodSandbox } from '../sandbox/kubernetes/pod-run';
import { createSandbox, type SandboxChoice } from './sandbox-backend';

const dir = mkdtempSync(path.join(tmpdir(), 'integr8scode-sandbox-choice-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const choice = (use: SandboxChoice['use']): SandboxChoice => ({
  use,
  workDir: dir,
  probeRuntimes: false,
  log: createLogger('silent'),
});

describe('sandbox backend choice', () => {
  it('gives functions that run no scripts the Kubernetes runtimes, without a client', async () => {
    const config = loadConfig({ SANDBOX_BACKEND: 'kubernetes' });
    const lister = await createSandbox(config, choice('runtimes'));
    expect(lister.backend).toBe('kubernetes');
    expect(isPodSandbox(lister)).toBe(false);
    expect(lister.runtimes().map((r) => r.language)).toContain('python');
    expect((await createSandbox(config, choice(undefined))).runtimes()).toEqual([]);
  });

  it('stops on a bad runtimes file with a message naming it', async () => {
    const file = path.join(dir, 'runtimes.json');
    writeFileSync(file, JSON.stringify({ runtimes: { python: { '3.12': { image: 'python:3.12' } } } }));
    const config = loadConfig({ SANDBOX_BACKEND: 'kubernetes', KUBERNETES_RUNTIMES_FILE: file });
    await expect(createSandbox(config, choice('runtimes'))).rejects.toThrow(ConfigError);
    await expect(createSandbox(config, choice('runtimes'))).rejects.toThrow(
      `KUBERNETES_RUNTIMES_FILE=${file}`,
    );
  });

  it.skipIf(!process.env.INTEGR8S_KUBECONFIG)('gives run-pod the pod backend', async () => {
    const config = loadConfig({
      SANDBOX_BACKEND: 'kubernetes',
      KUBECONFIG: process.env.INTEGR8S_KUBECONFIG,
      KUBERNETES_RUNTIME_CLASS: 'gvisor',
    });
    const sandbox = await createSandbox(config, choice('run'));
    try {
      expect(isPodSandbox(sandbox)).toBe(true);
      expect((await sandbox.check()).features).toContain('runtime class: gvisor');
    } finally {
      await sandbox.close();
    }
  });

  it('keeps the local backend by default', async () => {
    const sandbox = await createSandbox(loadConfig({}), choice('runtimes'));
    expect(sandbox.backend).toBe('local');
  });
});
