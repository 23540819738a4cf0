/**
 * The command line of one sandboxed run: a tiny /bin/sh wrapper that joins the run's cgroups and sets
 * rlimits (so every process after it is accounted and limited), then execs bubblewrap.
 */
import { existsSync, lstatSync, readlinkSync } from 'node:fs';

/** The user inside the sandbox, and outside it when the server runs as root. */
export const SANDBOX_UID = 65534;
export const SCRIPT_DIR = '/sandbox';

/** File descriptors handed to the wrapper (after stdin, stdout, stderr). */
export const FD_STATUS = 3;
export const FD_SECCOMP = 4;
export const FD_SCRIPT = 5;
/** Usage report of the rusage wrapper, when no cgroups measure the run. */
export const FD_USAGE = 6;

/** Top-level system directories: bound read-only when real, recreated when symlinks (merged /usr). */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
/** The /etc pieces interpreters need: the loader cache, alternatives, TLS roots, the time zone. */
const ETC_PIECES = [
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/alternatives',
  '/etc/ssl/certs',
  '/etc/ca-certificates',
  '/etc/localtime',
];

/** Binds of the host's system directories, computed once. */
export function systemBinds(): string[] {
  const args: string[] = [];
  for (const path of [...SYSTEM_DIRS, ...ETC_PIECES]) {
    if (!existsSync(path) && !isSymlink(path)) continue;
    if (isSymlink(path) && SYSTEM_DIRS.includes(path)) args.push('--symlink', readlinkSync(path), path);
    else args.push('--ro-bind', path, path);
  }
  return args;
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

export interface BwrapRun {
  binds: string[];
  env: Record<string, string>;
  argv: string[];
  scriptName: string;
  tmpBytes: number;
}

export function bwrapArgs(run: BwrapRun): string[] {
  const args = [
    '--unshare-user',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-net',
    '--unshare-cgroup',
    '--disable-userns',
    '--uid',
    String(SANDBOX_UID),
    '--gid',
    String(SANDBOX_UID),
    '--hostname',
    'sandbox',
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    ...run.binds,
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--size',
    String(run.tmpBytes),
    '--perms',
    '1777',
    '--tmpfs',
    '/tmp',
    '--ro-bind-data',
    String(FD_SCRIPT),
    `${SCRIPT_DIR}/${run.scriptName}`,
    '--remount-ro',
    '/',
    '--chdir',
    '/tmp',
    '--clearenv',
  ];
  for (const [key, value] of Object.entries(run.env)) args.push('--setenv', key, value);
  args.push('--seccomp', String(FD_SECCOMP), '--json-status-fd', String(FD_STATUS), '--', ...run.argv);
  return args;
}

export interface WrapperOptions {
  procsFiles: string[];
  cpuSeconds: number;
  fileSizeBytes: number;
  /** RLIMIT_AS, when no memory cgroup limits the run. */
  addressSpaceBytes: number | null;
}

/** Paths we create ourselves; quoted anyway so the shell never interprets them. */
const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * The /bin/sh program run with the command as "$@". RLIMIT_CPU gets SIGXCPU at the soft limit and
 * SIGKILL one second later at the hard limit (soft first: it must never exceed the hard one). dash's
 * ulimit counts -f in 512-byte blocks and -v in KiB.
 */
export function wrapperScript(options: WrapperOptions): string {
  const lines = ['set -e'];
  for (const file of options.procsFiles) {
    lines.push(`echo $$ > ${quote(file)} || { echo "sandbox: cannot join cgroup ${file}" >&2; exit 125; }`);
  }
  lines.push(`ulimit -S -t ${options.cpuSeconds}`, `ulimit -H -t ${options.cpuSeconds + 1}`);
  lines.push(`ulimit -f ${Math.ceil(options.fileSizeBytes / 512)}`);
  if (options.addressSpaceBytes !== null)
    lines.push(`ulimit -v ${Math.ceil(options.addressSpaceBytes / 1024)}`);
  lines.push('exec "$@"');
  return lines.join('\n');
}

/** Runs the rest of the command as `uid` with no supplementary groups (root dropping to the sandbox user). */
export function dropPrivileges(uid: number): string[] {
  return ['/usr/bin/setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--'];
}
