/**
 * The Kubernetes backend's runtimes: language → version → image (pinned by digest), command and script
 * file name, from KUBERNETES_RUNTIMES_FILE or the default beside this file (runtimes.json). Validated
 * once at start; a bad file stops the process with a message naming the entry and what is wrong.
 * No Kubernetes client here: functions that only list runtimes load this alone.
 */
import { readFileSync } from 'node:fs';
import * as v from 'valibot';
import { ConfigError } from '../../config/config';
import type { RuntimeInfo } from '../port';
import defaultRegistry from './runtimes.json' with { type: 'json' };

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DIGEST = /@sha256:[0-9a-f]{64}$/;
const PLACEHOLDER_DIGEST = `@sha256:${'0'.repeat(64)}`;
/** The script's key in the ConfigMap (and its file name): not the runner's or stdin's keys. */
const FILE_NAME = /^[A-Za-z0-9][-._A-Za-z0-9]{0,99}$/;
const RESERVED_KEYS = new Set(['runner.sh', 'stdin']);

const RuntimeEntrySchema = v.strictObject({
  image: v.pipe(
    v.string(),
    v.regex(DIGEST, 'must be pinned by digest (…@sha256:<64 lowercase hex digits>)'),
    v.check((image) => !/\s/.test(image), 'must not contain white space'),
  ),
  command: v.pipe(
    v.array(v.pipe(v.string(), v.minLength(1, 'command words must not be empty'))),
    v.minLength(1, 'must name the interpreter, e.g. ["python3"]'),
    // The runner hands NAME=VALUE words to env(1) before the command: the command cannot look like one.
    v.check((command) => !(command[0] ?? '').includes('='), 'the first word must not contain "="'),
  ),
  fileName: v.pipe(
    v.string(),
    v.regex(FILE_NAME, 'must be a plain file name such as main.py'),
    v.check((name) => !RESERVED_KEYS.has(name), 'must not be runner.sh or stdin'),
    v.check((name) => name.includes('.'), 'must have an extension (it is the language file extension)'),
  ),
  env: v.optional(
    v.record(v.pipe(v.string(), v.regex(ENV_NAME, 'must be an environment variable name')), v.string()),
    {},
  ),
});

const RegistrySchema = v.strictObject({
  $comment: v.optional(v.string()),
  runtimes: v.pipe(
    v.record(
      v.pipe(v.string(), v.regex(/^[a-z][a-z0-9+-]{0,31}$/, 'must be a lowercase language name')),
      v.pipe(
        v.record(
          v.pipe(v.string(), v.regex(/^[0-9A-Za-z][0-9A-Za-z.+-]{0,31}$/, 'must be a version such as 3.12')),
          RuntimeEntrySchema,
        ),
        v.check((versions) => Object.keys(versions).length > 0, 'must list at least one version'),
      ),
    ),
    v.check((languages) => Object.keys(languages).length > 0, 'must list at least one language'),
  ),
});

/** The environment every script starts from; a runtime's `env` adds to it or overrides it. */
export const BASE_SCRIPT_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: '/tmp',
  TMPDIR: '/tmp',
  LANG: 'C.UTF-8',
  LC_ALL: 'C.UTF-8',
};

export interface KubernetesRuntime extends RuntimeInfo {
  image: string;
  command: string[];
  fileName: string;
  /** The script's whole environment. */
  env: Record<string, string>;
}

export interface RuntimeRegistry {
  /** Where it came from: the file's path, or `built-in`. */
  source: string;
  runtimes: KubernetesRuntime[];
  /** Images whose digest is the all-zero placeholder of the shipped default. */
  placeholders: string[];
  find(language: string, version: string): KubernetesRuntime | undefined;
}

/** Validates a parsed registry; throws ConfigError naming each bad entry. */
export function parseRuntimeRegistry(input: unknown, source: string): RuntimeRegistry {
  const result = v.safeParse(RegistrySchema, input);
  if (!result.success) {
    const lines = result.issues.map((issue) => `  ${v.getDotPath(issue) ?? '(file)'}: ${issue.message}`);
    throw new ConfigError(`Invalid Kubernetes runtimes in ${source}:\n${lines.join('\n')}`);
  }
  const runtimes: KubernetesRuntime[] = [];
  for (const [language, versions] of Object.entries(result.output.runtimes)) {
    for (const [version, entry] of Object.entries(versions)) {
      runtimes.push({
        language,
        version,
        fileExt: entry.fileName.slice(entry.fileName.lastIndexOf('.') + 1),
        image: entry.image,
        command: entry.command,
        fileName: entry.fileName,
        env: { ...BASE_SCRIPT_ENV, ...entry.env },
      });
    }
  }
  return {
    source,
    runtimes,
    placeholders: runtimes.filter((r) => r.image.endsWith(PLACEHOLDER_DIGEST)).map((r) => r.image),
    find: (language, version) => runtimes.find((r) => r.language === language && r.version === version),
  };
}

/** The registry in `file` (KUBERNETES_RUNTIMES_FILE), or the built-in default when none is given. */
export function loadRuntimeRegistry(file?: string): RuntimeRegistry {
  if (!file) return parseRuntimeRegistry(defaultRegistry, 'built-in');
  let input: unknown;
  try {
    input = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(
      `KUBERNETES_RUNTIMES_FILE=${file}: cannot read it as JSON (${(error as Error).message})`,
    );
  }
  return parseRuntimeRegistry(input, `KUBERNETES_RUNTIMES_FILE=${file}`);
}

/** What `runtimes()` offers, without image or command. */
export const runtimeInfos = (registry: RuntimeRegistry): RuntimeInfo[] =>
  registry.runtimes.map(({ language, version, fileExt }) => ({ language, version, fileExt }));
