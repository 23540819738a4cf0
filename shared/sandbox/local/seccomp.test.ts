import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  AARCH64_SYSCALLS,
  AUDIT_ARCH_AARCH64,
  AUDIT_ARCH_X86_64,
  type BpfInstruction,
  buildSeccompProgram,
  CLONE_NAMESPACE_FLAGS,
  ENOSYS,
  EPERM,
  encodeSeccompProgram,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  X86_64_SYSCALLS,
} from './seccomp';

/** Runs a classic-BPF program the way the kernel's seccomp does, for the opcodes the filter uses. */
function evaluate(program: BpfInstruction[], data: { nr: number; arch: number; arg0?: number }): number {
  const words = new Map<number, number>([
    [0, data.nr >>> 0],
    [4, data.arch >>> 0],
    [16, (data.arg0 ?? 0) >>> 0],
  ]);
  let a = 0;
  for (let pc = 0; pc < program.length; pc++) {
    const ins = program[pc]!;
    switch (ins.code) {
      case 0x20:
        a = words.get(ins.k) ?? 0;
        break;
      case 0x15:
        pc += a === ins.k >>> 0 ? ins.jt : ins.jf;
        break;
      case 0x35:
        pc += a >= ins.k >>> 0 ? ins.jt : ins.jf;
        break;
      case 0x45:
        pc += (a & ins.k) !== 0 ? ins.jt : ins.jf;
        break;
      case 0x06:
        return ins.k >>> 0;
      default:
        throw new Error(`unexpected opcode ${ins.code}`);
    }
  }
  throw new Error('fell off the end of the program');
}

const program = buildSeccompProgram();
const errnoOf = (value: number) => (SECCOMP_RET_ERRNO | value) >>> 0;

describe('seccomp program', () => {
  for (const table of [X86_64_SYSCALLS, AARCH64_SYSCALLS]) {
    const name = table.arch === AUDIT_ARCH_X86_64 ? 'x86_64' : 'aarch64';

    it(`${name}: denies every listed syscall with EPERM`, () => {
      for (const [syscall, nr] of Object.entries(table.denied)) {
        expect(evaluate(program, { nr, arch: table.arch }), syscall).toBe(errnoOf(EPERM));
      }
    });

    it(`${name}: allows ordinary syscalls`, () => {
      const ordinary =
        table.arch === AUDIT_ARCH_X86_64 ? [0, 1, 2, 9, 59, 60, 231, 257] : [56, 57, 63, 64, 93, 221, 222];
      for (const nr of ordinary) expect(evaluate(program, { nr, arch: table.arch })).toBe(SECCOMP_RET_ALLOW);
    });

    it(`${name}: clone with a namespace flag is denied, a plain fork or thread is allowed`, () => {
      const fork = 0x11; // SIGCHLD
      const thread = 0x3d0f00;
      expect(evaluate(program, { nr: table.clone, arch: table.arch, arg0: fork })).toBe(SECCOMP_RET_ALLOW);
      expect(evaluate(program, { nr: table.clone, arch: table.arch, arg0: thread })).toBe(SECCOMP_RET_ALLOW);
      for (let bit = 0; bit < 32; bit++) {
        const flag = 2 ** bit;
        if ((CLONE_NAMESPACE_FLAGS & flag) === 0) continue;
        expect(evaluate(program, { nr: table.clone, arch: table.arch, arg0: fork | flag })).toBe(
          errnoOf(EPERM),
        );
      }
      expect(evaluate(program, { nr: table.clone3, arch: table.arch })).toBe(errnoOf(ENOSYS));
    });

    it(`${name}: personality only for the ordinary domains`, () => {
      const call = (arg0: number) => evaluate(program, { nr: table.personality, arch: table.arch, arg0 });
      expect(call(0)).toBe(SECCOMP_RET_ALLOW);
      expect(call(8)).toBe(SECCOMP_RET_ALLOW);
      expect(call(0xffffffff)).toBe(SECCOMP_RET_ALLOW);
      expect(call(0x0040000)).toBe(errnoOf(EPERM)); // ADDR_NO_RANDOMIZE
      expect(call(0x0400000)).toBe(errnoOf(EPERM)); // READ_IMPLIES_EXEC
    });
  }

  it('kills other architectures and refuses the x32 ABI', () => {
    expect(evaluate(program, { nr: 0, arch: 0x40000003 })).toBe(SECCOMP_RET_KILL_PROCESS);
    expect(evaluate(program, { nr: 0x40000000 + 1, arch: AUDIT_ARCH_X86_64 })).toBe(errnoOf(ENOSYS));
    expect(evaluate(program, { nr: 0x40000000 + 1, arch: AUDIT_ARCH_AARCH64 })).toBe(SECCOMP_RET_ALLOW);
  });

  it('encodes struct sock_filter as 8 bytes per instruction', () => {
    const bytes = encodeSeccompProgram(program);
    expect(bytes.length).toBe(program.length * 8);
    expect(bytes.readUInt16LE(0)).toBe(0x20);
    expect(bytes.readUInt32LE(4)).toBe(4); // load arch
    expect(bytes.readUInt32LE(bytes.length - 4)).toBe(SECCOMP_RET_KILL_PROCESS);
  });

  const header = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';
  it.skipIf(!existsSync(header))('x86_64 numbers match the kernel headers installed here', () => {
    const text = readFileSync(header, 'utf8');
    const numbers = new Map(
      [...text.matchAll(/#define __NR_(\w+) (\d+)/g)].map((m) => [m[1]!, Number(m[2])]),
    );
    const all = { ...X86_64_SYSCALLS.denied, clone: X86_64_SYSCALLS.clone, clone3: X86_64_SYSCALLS.clone3 };
    for (const [name, nr] of Object.entries(all)) expect(numbers.get(name), name).toBe(nr);
    expect(numbers.get('personality')).toBe(X86_64_SYSCALLS.personality);
  });
});
