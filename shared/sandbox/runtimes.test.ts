import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { discoverRuntimes, RUNTIME_DEFINITIONS, runtimeDefinition } from './runtimes';

describe('runtime table', () => {
  it('parses the version each interpreter prints', () => {
    const parse = (language: string, output: string) => runtimeDefinition(language)!.parseVersion(output);
    expect(parse('python', 'Python 3.11.2\n')).toBe('3.11');
    expect(parse('node', 'v20.20.2\n')).toBe('20');
    expect(parse('bash', 'GNU bash, version 5.2.15(1)-release (x86_64-pc-linux-gnu)')).toBe('5.2');
    expect(parse('ruby', 'ruby 3.1.2p20 (2022-04-12 revision 4491bb740a) [x86_64-linux-gnu]')).toBe('3.1');
    expect(parse('go', 'go version go1.26.8 linux/amd64')).toBe('1.26');
    expect(parse('python', 'command not found')).toBeNull();
  });

  it('gives each language an extension, a command line and a clean environment', () => {
    for (const definition of RUNTIME_DEFINITIONS) {
      expect(definition.fileExt).toMatch(/^[a-z]+$/);
      expect(definition.command('/usr/bin/x', '/sandbox/main.x')).toContain('/sandbox/main.x');
      expect(definition.env.HOME).toBe('/tmp');
      for (const path of definition.candidates) expect(path).toMatch(/^\/(usr|bin)\//);
      expect(Object.keys(definition.env).some((key) => /SECRET|TOKEN|KEY/.test(key))).toBe(false);
    }
    const python = runtimeDefinition('python')!;
    expect(python.required).toBe(true);
    expect(python.env).toMatchObject({ PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' });
    expect(runtimeDefinition('go')!.env).toMatchObject({ GOCACHE: '/tmp/.gocache', GOTMPDIR: '/tmp' });
    expect(runtimeDefinition('go')!.probe).toBeDefined();
  });

  it.skipIf(!existsSync('/usr/bin/python3'))(
    'discovers python on this host with its real version',
    async () => {
      const actual = execFileSync('/usr/bin/python3', [
        '-c',
        'import sys; print("%d.%d" % sys.version_info[:2])',
      ])
        .toString()
        .trim();
      const { found } = await discoverRuntimes();
      const python = found.find((runtime) => runtime.language === 'python');
      expect(python).toMatchObject({
        language: 'python',
        version: actual,
        fileExt: 'py',
        binary: '/usr/bin/python3',
      });
    },
  );

  it('reports a runtime that is not installed, with why', async () => {
    const ghost = {
      ...runtimeDefinition('ruby')!,
      language: 'ghost',
      candidates: ['/usr/bin/no-such-interpreter'],
    };
    const result = await discoverRuntimes([ghost]);
    expect(result.found).toEqual([]);
    expect(result.missing).toEqual([
      { language: 'ghost', why: 'no executable at /usr/bin/no-such-interpreter' },
    ]);
  });
});
