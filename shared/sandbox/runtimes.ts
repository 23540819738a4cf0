/**
 * The languages a sandbox can run: file extension, command line and environment per language, and
 * discovery of the interpreters installed on this host.
 */
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import type { RuntimeInfo } from './port';

export interface RuntimeDefinition {
  language: string;
  fileExt: string;
  /** Executables to try in order; only system paths (/usr, /bin) are visible inside the sandbox. */
  candidates: string[];
  versionArgs: string[];
  /** The version as the API shows it ("3.11", or "20" for node), or null when unrecognised. */
  parseVersion(output: string): string | null;
  /** argv that runs `scriptPath` with the interpreter at `binary`. */
  command(binary: string, scriptPath: string): string[];
  /** The whole environment of the script (nothing from the server is passed on). */
  env: Record<string, string>;
  required: boolean;
  /** Runtimes that need more than an interpreter must prove a hello world works before being offered. */
  probe?: { script: string; expectStdout: string };
}

export interface DiscoveredRuntime extends RuntimeInfo {
  binary: string;
  definition: RuntimeDefinition;
}

const BASE_ENV: Record<string, string> = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: '/tmp',
  TMPDIR: '/tmp',
  LANG: 'C.UTF-8',
  LC_ALL: 'C.UTF-8',
};

function majorMinor(pattern: RegExp): (output: string) => string | null {
  return (output) => {
    const match = pattern.exec(output);
    return match ? `${match[1]}.${match[2]}` : null;
  };
}

export const RUNTIME_DEFINITIONS: readonly RuntimeDefinition[] = [
  {
    language: 'python',
    fileExt: 'py',
    candidates: ['/usr/bin/python3'],
    versionArgs: ['--version'],
    parseVersion: majorMinor(/Python (\d+)\.(\d+)/),
    command: (binary, script) => [binary, script],
    env: { ...BASE_ENV, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8' },
    required: true,
  },
  {
    language: 'node',
    fileExt: 'js',
    candidates: ['/usr/bin/node', '/usr/local/bin/node'],
    versionArgs: ['--version'],
    parseVersion: (output) => /^v(\d+)\./.exec(output.trim())?.[1] ?? null,
    command: (binary, script) => [binary, script],
    env: { ...BASE_ENV, NODE_DISABLE_COLORS: '1' },
    required: false,
  },
  {
    language: 'bash',
    fileExt: 'sh',
    candidates: ['/usr/bin/bash', '/bin/bash'],
    versionArgs: ['--version'],
    parseVersion: majorMinor(/version (\d+)\.(\d+)/),
    command: (binary, script) => [binary, script],
    env: { ...BASE_ENV },
    required: false,
  },
  {
    language: 'ruby',
    fileExt: 'rb',
    candidates: ['/usr/bin/ruby', '/usr/local/bin/ruby'],
    versionArgs: ['--version'],
    parseVersion: majorMinor(/ruby (\d+)\.(\d+)/),
    command: (binary, script) => [binary, script],
    env: { ...BASE_ENV },
    required: false,
  },
  {
    language: 'go',
    fileExt: 'go',
    candidates: ['/usr/local/go/bin/go', '/usr/lib/go/bin/go', '/usr/bin/go'],
    versionArgs: ['version'],
    parseVersion: majorMinor(/go(\d+)\.(\d+)/),
    command: (binary, script) => [binary, 'run', script],
    env: {
      ...BASE_ENV,
      // The build cache and temp files live in the sandbox's own /tmp; no toolchain downloads, no cgo.
      GOCACHE: '/tmp/.gocache',
      GOTMPDIR: '/tmp',
      GOPATH: '/tmp/go',
      GOTOOLCHAIN: 'local',
      CGO_ENABLED: '0',
    },
    required: false,
    probe: {
      script: 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello") }\n',
      expectStdout: 'hello\n',
    },
  },
];

export function runtimeDefinition(language: string): RuntimeDefinition | undefined {
  return RUNTIME_DEFINITIONS.find((definition) => definition.language === language);
}

function runForOutput(binary: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(binary, args, { timeout: 10_000, env: { PATH: BASE_ENV.PATH } }, (error, stdout, stderr) => {
      resolve(error ? null : `${stdout}${stderr}`);
    });
  });
}

function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

export interface RuntimeDiscovery {
  found: DiscoveredRuntime[];
  /** Languages not offered, with why. */
  missing: { language: string; why: string }[];
}

/** The first candidate of `definition` that runs and prints a version, or why there is none. */
async function discoverRuntime(definition: RuntimeDefinition): Promise<DiscoveredRuntime | string> {
  let why = `no executable at ${definition.candidates.join(', ')}`;
  for (const binary of definition.candidates) {
    if (!(await isExecutable(binary))) continue;
    const output = await runForOutput(binary, definition.versionArgs);
    const version = output === null ? null : definition.parseVersion(output);
    if (version !== null)
      return { language: definition.language, version, fileExt: definition.fileExt, binary, definition };
    why = `${binary} ${definition.versionArgs.join(' ')} failed or printed no version`;
  }
  return why;
}

/** Looks for each runtime on the host once; the caller decides what a missing required one means. */
export async function discoverRuntimes(
  definitions: readonly RuntimeDefinition[] = RUNTIME_DEFINITIONS,
): Promise<RuntimeDiscovery> {
  // All languages at once: each waits on its interpreter's `--version`, so this takes as long as the slowest.
  const outcomes = await Promise.all(definitions.map(discoverRuntime));
  const result: RuntimeDiscovery = { found: [], missing: [] };
  outcomes.forEach((outcome, index) => {
    if (typeof outcome !== 'string') result.found.push(outcome);
    else result.missing.push({ language: definitions[index]!.language, why: outcome });
  });
  return result;
}
