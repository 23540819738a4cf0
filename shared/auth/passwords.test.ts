import { scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashPassword, needsRehash, verifyAgainstDummy, verifyPassword } from './passwords';

describe('password hashing', () => {
  it('verifies the right password and rejects a wrong one', async () => {
    const stored = await hashPassword('correct horse battery staple');
    expect(await verifyPassword('correct horse battery staple', stored)).toBe(true);
    expect(await verifyPassword('correct horse battery stapler', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('salts every hash and records its parameters in the stored string', async () => {
    const [a, b] = await Promise.all([hashPassword('same'), hashPassword('same')]);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toContain('same');
  });

  it('treats composed and decomposed forms of the same text as one password', async () => {
    const stored = await hashPassword('caf\u00e9');
    expect(await verifyPassword('cafe\u0301', stored)).toBe(true);
  });

  it('still verifies hashes made with other parameters and asks for them to be upgraded', async () => {
    const current = await hashPassword('pw');
    // Same salt and key layout, cheaper cost: what a hash from an older release would look like.
    const [, , , salt] = current.split('$');
    const key = scryptSync('pw', Buffer.from(salt!, 'base64url'), 32, { N: 2 ** 12, r: 8, p: 1 });
    const older = `$scrypt$ln=12,r=8,p=1$${salt}$${key.toString('base64url')}`;
    expect(await verifyPassword('pw', older)).toBe(true);
    expect(await verifyPassword('px', older)).toBe(false);
    expect(needsRehash(older)).toBe(true);
    expect(needsRehash(current)).toBe(false);
  });

  it('never matches a malformed or out-of-bounds hash', async () => {
    for (const stored of [
      '',
      'plain',
      '$scrypt$ln=15,r=8,p=1$$',
      '$scrypt$ln=40,r=8,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA',
    ]) {
      expect(await verifyPassword('plain', stored)).toBe(false);
      expect(needsRehash(stored)).toBe(true);
    }
  });

  it('spends about as long on an unknown user as on a real check', async () => {
    const stored = await hashPassword('pw');
    await verifyAgainstDummy('warm-up');
    const time = async (run: () => Promise<unknown>) => {
      const start = performance.now();
      for (let i = 0; i < 3; i++) await run();
      return performance.now() - start;
    };
    const real = await time(() => verifyPassword('wrong', stored));
    const dummy = await time(() => verifyAgainstDummy('wrong'));
    expect(await verifyAgainstDummy('anything')).toBe(false);
    // Loose bounds: other work shares the CPU. A skipped check would be thousands of times faster.
    expect(dummy / real).toBeGreaterThan(0.3);
    expect(dummy / real).toBeLessThan(3);
  });
});
