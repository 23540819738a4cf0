import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../config/config';
import { loadRuntimeRegistry, parseRuntimeRegistry, runtimeInfos } from './runtime-registry';

const dir = mkdtempSync(path.join(tmpdir(), 'integr8scode-runtimes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const python = { image: `registry.example/python:3.12@${DIGEST}`, command: ['python3'], fileName: 'main.py' };

function problems(input: unknown): string {
  try {
    parseRuntimeRegistry(input, 'test');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('accepted');
}

describe('Kubernetes runtime registry', () => {
  it('ships a default with the platform languages, flagged as placeholder digests', () => {
    const registry = loadRuntimeRegistry();
    expect(registry.source).toBe('built-in');
    expect(runtimeInfos(registry).map((r) => r.language)).toEqual(['python', 'node', 'ruby', 'bash', 'go']);
    expect(registry.find('python', '3.12')).toMatchObject({
      fileExt: 'py',
      fileName: 'main.py',
      command: ['python3'],
      env: expect.objectContaining({ HOME: '/tmp', PYTHONUNBUFFERED: '1' }),
    });
    expect(registry.placeholders).toHaveLength(registry.runtimes.length);
    expect(registry.find('python', '2.7')).toBeUndefined();
  });

  it('reads a file and merges each runtime env over the base environment', () => {
    const file = path.join(dir, 'ok.json');
    writeFileSync(
      file,
      JSON.stringify({ runtimes: { python: { '3.13': { ...python, env: { PATH: '/opt/py/bin' } } } } }),
    );
    const registry = loadRuntimeRegistry(file);
    expect(registry.source).toBe(`KUBERNETES_RUNTIMES_FILE=${file}`);
    expect(registry.placeholders).toEqual([]);
    expect(registry.find('python', '3.13')!.env).toMatchObject({ PATH: '/opt/py/bin', HOME: '/tmp' });
  });

  it('refuses a bad file with a message naming each entry at fault', () => {
    const message = problems({
      runtimes: {
        python: {
          '3.12': { ...python, image: 'python:3.12' },
          '3.11': { ...python, command: [] },
          '3.10': { ...python, fileName: 'runner.sh' },
          '3.9': { ...python, env: { 'BAD-NAME': 'x' } },
          '3.8': { ...python, extra: true },
        },
        Ruby: { '3': python },
        node: {},
      },
    });
    expect(message).toContain('Invalid Kubernetes runtimes in test');
    expect(message).toContain('runtimes.python.3.12.image: must be pinned by digest');
    expect(message).toContain('runtimes.python.3.11.command: must name the interpreter');
    expect(message).toContain('runtimes.python.3.10.fileName: must not be runner.sh or stdin');
    expect(message).toContain('runtimes.python.3.9.env.BAD-NAME: must be an environment variable name');
    expect(message).toContain('runtimes.python.3.8.extra');
    expect(message).toContain('runtimes.Ruby: must be a lowercase language name');
    expect(message).toContain('runtimes.node: must list at least one version');
    expect(problems({ runtimes: {} })).toContain('runtimes: must list at least one language');
    expect(problems({ runtimes: { sh: { '1': { ...python, command: ['A=1', 'sh'] } } } })).toContain(
      'the first word must not contain "="',
    );
  });

  it('names the file when it is not JSON', () => {
    const file = path.join(dir, 'broken.json');
    writeFileSync(file, '{ nope');
    expect(() => loadRuntimeRegistry(file)).toThrow(
      `KUBERNETES_RUNTIMES_FILE=${file}: cannot read it as JSON`,
    );
    expect(() => loadRuntimeRegistry(path.join(dir, 'missing.json'))).toThrow(ConfigError);
  });
});
