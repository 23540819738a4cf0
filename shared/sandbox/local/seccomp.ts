/**
 * A seccomp filter for the sandbox, as the raw classic-BPF program bubblewrap loads with `--seccomp FD`.
 * Everything is allowed except syscalls that reach the kernel's most exposed surfaces or undo the
 * sandbox (namespaces, mounts, tracing, keyrings, modules, io_uring, eBPF). Denied calls fail with
 * EPERM so programs get an ordinary error; clone3 fails with ENOSYS so libc falls back to clone, whose
 * flags can be inspected. An unknown architecture is killed outright.
 */
import { endianness } from 'node:os';

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const EPERM = 1;
export const ENOSYS = 38;

/** Every CLONE_NEW* flag that fits in clone()'s flags word. */
export const CLONE_NAMESPACE_FLAGS = 0x7e020000;
/** personality() values a normal program uses: PER_LINUX, PER_LINUX32 and the query value. */
const PERSONALITY_ALLOWED = [0x0, 0x8, 0xffffffff];
/** x86_64 syscalls with this bit set are the x32 ABI, which the filter does not cover: refused. */
const X32_SYSCALL_BIT = 0x40000000;

// Classic BPF opcodes (linux/filter.h).
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const JSET_K = 0x45;
const RET_K = 0x06;

// struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6].
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
/** Low 32 bits of args[0] on a little-endian machine. */
const OFFSET_ARG0_LOW = 16;

export interface SyscallTable {
  arch: number;
  /** Denied with EPERM. */
  denied: Record<string, number>;
  clone: number;
  clone3: number;
  personality: number;
}

const DENIED_COMMON = [
  'ptrace',
  'mount',
  'umount2',
  'pivot_root',
  'bpf',
  'perf_event_open',
  'keyctl',
  'add_key',
  'request_key',
  'userfaultfd',
  'kexec_load',
  'kexec_file_load',
  'init_module',
  'finit_module',
  'delete_module',
  'unshare',
  'setns',
  'io_uring_setup',
  'io_uring_enter',
  'io_uring_register',
  'process_vm_readv',
  'process_vm_writev',
  'open_by_handle_at',
  'name_to_handle_at',
  'open_tree',
  'move_mount',
  'fsopen',
  'fsconfig',
  'fsmount',
  'fspick',
  'mount_setattr',
  'swapon',
  'swapoff',
  'reboot',
  'acct',
  'syslog',
  'quotactl',
  'lookup_dcookie',
  'vhangup',
  'settimeofday',
  'clock_settime',
  'clock_adjtime',
  'adjtimex',
] as const;

type CommonName = (typeof DENIED_COMMON)[number];

export const X86_64_SYSCALLS: SyscallTable = {
  arch: AUDIT_ARCH_X86_64,
  denied: {
    ptrace: 101,
    mount: 165,
    umount2: 166,
    pivot_root: 155,
    bpf: 321,
    perf_event_open: 298,
    keyctl: 250,
    add_key: 248,
    request_key: 249,
    userfaultfd: 323,
    kexec_load: 246,
    kexec_file_load: 320,
    init_module: 175,
    finit_module: 313,
    delete_module: 176,
    unshare: 272,
    setns: 308,
    io_uring_setup: 425,
    io_uring_enter: 426,
    io_uring_register: 427,
    process_vm_readv: 310,
    process_vm_writev: 311,
    open_by_handle_at: 304,
    name_to_handle_at: 303,
    open_tree: 428,
    move_mount: 429,
    fsopen: 430,
    fsconfig: 431,
    fsmount: 432,
    fspick: 433,
    mount_setattr: 442,
    swapon: 167,
    swapoff: 168,
    reboot: 169,
    acct: 163,
    syslog: 103,
    quotactl: 179,
    lookup_dcookie: 212,
    vhangup: 153,
    settimeofday: 164,
    clock_settime: 227,
    clock_adjtime: 305,
    adjtimex: 159,
    // x86 only: direct port I/O and the a.out loader.
    iopl: 172,
    ioperm: 173,
    uselib: 134,
  } satisfies Record<CommonName, number> & Record<string, number>,
  clone: 56,
  clone3: 435,
  personality: 135,
};

export const AARCH64_SYSCALLS: SyscallTable = {
  arch: AUDIT_ARCH_AARCH64,
  denied: {
    ptrace: 117,
    mount: 40,
    umount2: 39,
    pivot_root: 41,
    bpf: 280,
    perf_event_open: 241,
    keyctl: 219,
    add_key: 217,
    request_key: 218,
    userfaultfd: 282,
    kexec_load: 104,
    kexec_file_load: 294,
    init_module: 105,
    finit_module: 273,
    delete_module: 106,
    unshare: 97,
    setns: 268,
    io_uring_setup: 425,
    io_uring_enter: 426,
    io_uring_register: 427,
    process_vm_readv: 270,
    process_vm_writev: 271,
    open_by_handle_at: 265,
    name_to_handle_at: 264,
    open_tree: 428,
    move_mount: 429,
    fsopen: 430,
    fsconfig: 431,
    fsmount: 432,
    fspick: 433,
    mount_setattr: 442,
    swapon: 224,
    swapoff: 225,
    reboot: 142,
    acct: 89,
    syslog: 116,
    quotactl: 60,
    lookup_dcookie: 18,
    vhangup: 58,
    settimeofday: 170,
    clock_settime: 112,
    clock_adjtime: 266,
    adjtimex: 171,
  } satisfies Record<CommonName, number>,
  clone: 220,
  clone3: 435,
  personality: 92,
};

export interface BpfInstruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

const stmt = (code: number, k: number): BpfInstruction => ({ code, jt: 0, jf: 0, k });
const jump = (code: number, k: number, jt: number, jf: number): BpfInstruction => {
  if (jt > 255 || jf > 255) throw new Error('seccomp program too long for a relative jump');
  return { code, jt, jf, k };
};
const errno = (value: number) => stmt(RET_K, SECCOMP_RET_ERRNO | value);

/** The rules for one architecture; expects the syscall number to be loaded, ends in ALLOW. */
function archRules(table: SyscallTable): BpfInstruction[] {
  const out: BpfInstruction[] = [stmt(LD_W_ABS, OFFSET_NR)];
  if (table.arch === AUDIT_ARCH_X86_64) {
    out.push(jump(JGE_K, X32_SYSCALL_BIT, 0, 1), errno(ENOSYS));
  }
  for (const nr of Object.values(table.denied)) out.push(jump(JEQ_K, nr, 0, 1), errno(EPERM));
  out.push(jump(JEQ_K, table.clone3, 0, 1), errno(ENOSYS));
  // clone: refuse any namespace flag in the flags argument.
  out.push(
    jump(JEQ_K, table.clone, 0, 4),
    stmt(LD_W_ABS, OFFSET_ARG0_LOW),
    jump(JSET_K, CLONE_NAMESPACE_FLAGS, 0, 1),
    errno(EPERM),
    stmt(RET_K, SECCOMP_RET_ALLOW),
  );
  // personality: only the ordinary execution domains (no READ_IMPLIES_EXEC, no ADDR_NO_RANDOMIZE...).
  const checks = PERSONALITY_ALLOWED.length;
  out.push(jump(JEQ_K, table.personality, 0, checks + 3), stmt(LD_W_ABS, OFFSET_ARG0_LOW));
  PERSONALITY_ALLOWED.forEach((value, i) => {
    out.push(jump(JEQ_K, value, checks - i, 0));
  });
  out.push(errno(EPERM), stmt(RET_K, SECCOMP_RET_ALLOW));
  out.push(stmt(RET_K, SECCOMP_RET_ALLOW));
  return out;
}

/** The whole program: dispatch on the architecture, then that architecture's rules. */
export function buildSeccompProgram(
  tables: SyscallTable[] = [X86_64_SYSCALLS, AARCH64_SYSCALLS],
): BpfInstruction[] {
  const program: BpfInstruction[] = [stmt(LD_W_ABS, OFFSET_ARCH)];
  for (const table of tables) {
    const rules = archRules(table);
    program.push(jump(JEQ_K, table.arch, 0, rules.length), ...rules);
  }
  program.push(stmt(RET_K, SECCOMP_RET_KILL_PROCESS));
  return program;
}

/** `struct sock_filter[]` in the host's byte order, as the kernel reads it. */
export function encodeSeccompProgram(program: BpfInstruction[]): Buffer {
  const buf = Buffer.alloc(program.length * 8);
  const little = endianness() === 'LE';
  program.forEach((ins, i) => {
    const at = i * 8;
    if (little) buf.writeUInt16LE(ins.code, at);
    else buf.writeUInt16BE(ins.code, at);
    buf.writeUInt8(ins.jt, at + 2);
    buf.writeUInt8(ins.jf, at + 3);
    if (little) buf.writeUInt32LE(ins.k >>> 0, at + 4);
    else buf.writeUInt32BE(ins.k >>> 0, at + 4);
  });
  return buf;
}
