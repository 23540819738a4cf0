/**
 * Per-run cgroups for the local sandbox: memory and process-count limits, and exact CPU, peak-memory,
 * OOM and pids-limit figures for the whole process tree. Children are made under this process's own
 * cgroup (`<own path>/integr8scode/<run>`), on cgroup v1 (root, or a writable hierarchy) or on a
 * delegated cgroup v2 subtree.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface CgroupUsage {
  cpuMs: number | null;
  peakMemoryBytes: number | null;
  oomKills: number;
  /** Times a fork was refused because pids.max was reached. */
  pidsLimitHits: number;
}

export interface RunCgroupLimits {
  memoryBytes: number;
  maxProcesses: number;
}

export interface RunCgroup {
  /** Files the run's first process writes its pid into, so that everything after it is accounted. */
  readonly procsFiles: string[];
  readonly limitsProcesses: boolean;
  usage(): Promise<CgroupUsage>;
  /** SIGKILLs every process still in the cgroup. */
  killAll(): Promise<void>;
  isEmpty(): Promise<boolean>;
  remove(): Promise<void>;
}

export interface CgroupBackend {
  readonly version: 'v1' | 'v2';
  /** For the status features list, e.g. "cgroup v1 memory". */
  readonly features: string[];
  create(runName: string, limits: RunCgroupLimits): Promise<RunCgroup>;
}

const PARENT = 'integr8scode';

/**
 * cgroupfs files live in kernel memory: reading or writing one synchronously takes microseconds,
 * while a trip through libuv's thread pool costs about a millisecond on the path of every run.
 */
async function readText(path: string): Promise<string | null> {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** `key value` lines (memory.events, pids.events, cpu.stat, memory.oom_control). */
export function readKeyed(text: string | null, key: string): number | null {
  if (text === null) return null;
  const match = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return match ? Number(match[1]) : null;
}

async function readNumber(path: string): Promise<number | null> {
  const text = await readText(path);
  if (text === null) return null;
  const value = Number(text.trim());
  return Number.isFinite(value) ? value : null;
}

async function pidsIn(dir: string): Promise<number[]> {
  const text = await readText(join(dir, 'cgroup.procs'));
  return (text ?? '')
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((pid) => pid > 0);
}

function killPids(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** rmdir fails while the kernel still tears exiting processes down; retry briefly. */
async function removeDir(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY') throw error;
      killPids(await pidsIn(dir));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  throw new Error(`cgroup ${dir} still busy after its processes were killed`);
}

interface OwnCgroup {
  /** Controllers of the v1 hierarchy (empty for v2). */
  controllers: string[];
  path: string;
}

export function parseProcCgroup(text: string): OwnCgroup[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [, controllers = '', path = '/'] = /^(?:\d+):([^:]*):(.*)$/.exec(line) ?? [];
      return { controllers: controllers ? controllers.split(',') : [], path };
    });
}

interface CgroupMount {
  mountPoint: string;
  root: string;
  type: 'cgroup' | 'cgroup2';
  superOptions: string[];
}

export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const fields = left.split(' ');
    const [type, , superOpts = ''] = right.split(' ');
    if (type !== 'cgroup' && type !== 'cgroup2') continue;
    mounts.push({
      mountPoint: (fields[4] ?? '').replace(/\\040/g, ' '),
      root: fields[3] ?? '/',
      type,
      superOptions: superOpts.split(','),
    });
  }
  return mounts;
}

/** Our own cgroup directory in a hierarchy, seen through its mount (which may be a sub-tree). */
function ownDir(mount: CgroupMount, ownPath: string): string | null {
  if (mount.root === '/') return join(mount.mountPoint, ownPath);
  if (ownPath === mount.root || ownPath.startsWith(`${mount.root}/`)) {
    return join(mount.mountPoint, ownPath.slice(mount.root.length));
  }
  return null;
}

async function canCreateChildren(dir: string): Promise<boolean> {
  const probe = join(dir, `.probe-${process.pid}`);
  try {
    await mkdir(dir, { recursive: true });
    await mkdir(probe);
    await rmdir(probe);
    return true;
  } catch {
    return false;
  }
}

class V1Backend implements CgroupBackend {
  readonly version = 'v1';
  readonly features: string[];

  constructor(private readonly parents: { memory: string; pids: string | null; cpuacct: string | null }) {
    this.features = [
      'cgroup v1 memory (limit, swap off, peak, OOM kills)',
      parents.pids ? 'cgroup v1 pids (limit, limit hits)' : 'no pids cgroup: RLIMIT_NPROC only',
      parents.cpuacct ? 'cgroup v1 cpuacct (exact CPU time)' : 'no cpuacct cgroup: CPU time from rusage',
    ];
  }

  async create(runName: string, limits: RunCgroupLimits): Promise<RunCgroup> {
    const memory = join(this.parents.memory, runName);
    const pids = this.parents.pids ? join(this.parents.pids, runName) : null;
    const cpuacct = this.parents.cpuacct ? join(this.parents.cpuacct, runName) : null;
    const dirs = [memory, pids, cpuacct].filter((dir): dir is string => dir !== null);
    const made: string[] = [];
    try {
      for (const dir of dirs) {
        mkdirSync(dir);
        made.push(dir);
      }
      writeFileSync(join(memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
      // Swap would let a run exceed its memory limit: memsw = limit means no swap at all.
      if (existsSync(join(memory, 'memory.memsw.limit_in_bytes'))) {
        writeFileSync(join(memory, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
      }
      try {
        writeFileSync(join(memory, 'memory.swappiness'), '0');
      } catch {
        // Not settable under every parent; the memsw limit already rules swap out.
      }
      if (pids) writeFileSync(join(pids, 'pids.max'), String(limits.maxProcesses));
    } catch (error) {
      for (const dir of made.reverse()) await rmdir(dir).catch(() => undefined);
      throw error;
    }
    return {
      procsFiles: dirs.map((dir) => join(dir, 'cgroup.procs')),
      limitsProcesses: pids !== null,
      usage: async () => {
        const ns = cpuacct ? await readNumber(join(cpuacct, 'cpuacct.usage')) : null;
        return {
          cpuMs: ns === null ? null : ns / 1e6,
          peakMemoryBytes: await readNumber(join(memory, 'memory.max_usage_in_bytes')),
          oomKills: readKeyed(await readText(join(memory, 'memory.oom_control')), 'oom_kill') ?? 0,
          pidsLimitHits: pids ? (readKeyed(await readText(join(pids, 'pids.events')), 'max') ?? 0) : 0,
        };
      },
      killAll: async () => {
        for (const dir of dirs) killPids(await pidsIn(dir));
      },
      isEmpty: async () => {
        for (const dir of dirs) if ((await pidsIn(dir)).length > 0) return false;
        return true;
      },
      remove: async () => {
        for (const dir of dirs) await removeDir(dir);
      },
    };
  }
}

class V2Backend implements CgroupBackend {
  readonly version = 'v2';
  readonly features = [
    'cgroup v2 memory (limit, swap off, peak, OOM kills)',
    'cgroup v2 pids (limit, limit hits)',
    'cgroup v2 cpu.stat (exact CPU time)',
  ];

  constructor(private readonly parent: string) {}

  async create(runName: string, limits: RunCgroupLimits): Promise<RunCgroup> {
    const dir = join(this.parent, runName);
    await mkdir(dir);
    try {
      await writeFile(join(dir, 'memory.max'), String(limits.memoryBytes));
      await writeFile(join(dir, 'memory.swap.max'), '0').catch(() => undefined);
      await writeFile(join(dir, 'pids.max'), String(limits.maxProcesses));
    } catch (error) {
      await rmdir(dir).catch(() => undefined);
      throw error;
    }
    return {
      procsFiles: [join(dir, 'cgroup.procs')],
      limitsProcesses: true,
      usage: async () => {
        const usec = readKeyed(await readText(join(dir, 'cpu.stat')), 'usage_usec');
        return {
          cpuMs: usec === null ? null : usec / 1e3,
          peakMemoryBytes: await readNumber(join(dir, 'memory.peak')),
          oomKills: readKeyed(await readText(join(dir, 'memory.events')), 'oom_kill') ?? 0,
          pidsLimitHits: readKeyed(await readText(join(dir, 'pids.events')), 'max') ?? 0,
        };
      },
      killAll: async () => {
        // cgroup.kill (5.14+) kills the whole group atomically, forks in flight included.
        await writeFile(join(dir, 'cgroup.kill'), '1').catch(() => undefined);
        killPids(await pidsIn(dir));
      },
      isEmpty: async () => (await pidsIn(dir)).length === 0,
      remove: () => removeDir(dir),
    };
  }
}

async function detectV1(own: OwnCgroup[], mounts: CgroupMount[]): Promise<CgroupBackend | string> {
  const parentFor = async (controller: string): Promise<string | null> => {
    const mount = mounts.find((m) => m.type === 'cgroup' && m.superOptions.includes(controller));
    const entry = own.find((o) => o.controllers.includes(controller));
    if (!mount || !entry) return null;
    const dir = ownDir(mount, entry.path);
    if (!dir) return null;
    const parent = join(dir, PARENT);
    return (await canCreateChildren(parent)) ? parent : null;
  };
  const memory = await parentFor('memory');
  if (!memory) return 'cgroup v1: no writable memory hierarchy';
  return new V1Backend({ memory, pids: await parentFor('pids'), cpuacct: await parentFor('cpuacct') });
}

/**
 * cgroup v2 only lets a cgroup without processes hand controllers to its children, so when our own
 * cgroup holds this process, the process first moves into a leaf beside the runs.
 */
async function detectV2(own: OwnCgroup[], mounts: CgroupMount[]): Promise<CgroupBackend | string> {
  const mount = mounts.find((m) => m.type === 'cgroup2');
  const entry = own.find((o) => o.controllers.length === 0);
  if (!mount || !entry) return 'cgroup v2: not mounted';
  const base = ownDir(mount, entry.path);
  if (!base) return 'cgroup v2: own cgroup not visible';
  const available = ((await readText(join(base, 'cgroup.controllers'))) ?? '').split(/\s+/);
  const missing = ['memory', 'pids'].filter((c) => !available.includes(c));
  if (missing.length > 0) return `cgroup v2: controllers ${missing.join(', ')} not delegated to ${base}`;
  const enable = (dir: string) => writeFile(join(dir, 'cgroup.subtree_control'), '+memory +pids');
  try {
    await enable(base);
  } catch {
    try {
      const leaf = join(base, `${PARENT}-server`);
      await mkdir(leaf, { recursive: true });
      await writeFile(join(leaf, 'cgroup.procs'), String(process.pid));
      await enable(base);
    } catch (error) {
      return `cgroup v2: cannot enable memory and pids for children of ${base} (${(error as Error).message})`;
    }
  }
  const parent = join(base, PARENT);
  if (!(await canCreateChildren(parent))) return `cgroup v2: ${base} is not writable`;
  try {
    await enable(parent);
  } catch (error) {
    return `cgroup v2: cannot enable memory and pids in ${parent} (${(error as Error).message})`;
  }
  return new V2Backend(parent);
}

/** The best writable cgroup setup here, or the reasons none is usable. */
export async function detectCgroups(): Promise<{ backend: CgroupBackend | null; problems: string[] }> {
  const own = parseProcCgroup((await readText('/proc/self/cgroup')) ?? '');
  const mounts = parseCgroupMounts((await readText('/proc/self/mountinfo')) ?? '');
  const problems: string[] = [];
  for (const detect of [detectV1, detectV2]) {
    const result = await detect(own, mounts);
    if (typeof result !== 'string') return { backend: result, problems };
    problems.push(result);
  }
  return { backend: null, problems };
}
