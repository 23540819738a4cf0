import { describe, expect, it } from 'vitest';
import { parseCgroupMounts, parseProcCgroup, readKeyed } from './cgroups';

describe('cgroup discovery parsing', () => {
  it('reads our own cgroup per hierarchy from /proc/self/cgroup', () => {
    const own = parseProcCgroup(
      '9:name=systemd:/\n4:memory:/process_api/abc\n2:cpu,cpuacct:/x\n0::/user.slice/app\n',
    );
    expect(own).toEqual([
      { controllers: ['name=systemd'], path: '/' },
      { controllers: ['memory'], path: '/process_api/abc' },
      { controllers: ['cpu', 'cpuacct'], path: '/x' },
      { controllers: [], path: '/user.slice/app' },
    ]);
  });

  it('finds cgroup v1 and v2 mounts with their controllers in mountinfo', () => {
    const mountinfo = [
      '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
      '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
      '32 31 0:29 /docker/1 /sys/fs/cgroup/cpu,cpuacct rw shared:9 - cgroup cgroup rw,cpu,cpuacct',
      '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
    ].join('\n');
    expect(parseCgroupMounts(mountinfo)).toEqual([
      { mountPoint: '/sys/fs/cgroup/memory', root: '/', type: 'cgroup', superOptions: ['rw', 'memory'] },
      {
        mountPoint: '/sys/fs/cgroup/cpu,cpuacct',
        root: '/docker/1',
        type: 'cgroup',
        superOptions: ['rw', 'cpu', 'cpuacct'],
      },
      { mountPoint: '/sys/fs/cgroup/unified', root: '/', type: 'cgroup2', superOptions: ['rw'] },
    ]);
  });

  it('reads counters from keyed files', () => {
    const events = 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n';
    expect(readKeyed(events, 'oom_kill')).toBe(1);
    expect(readKeyed(events, 'max')).toBe(3);
    expect(readKeyed('oom_kill_disable 0\nunder_oom 0\noom_kill 2\n', 'oom_kill')).toBe(2);
    expect(readKeyed(events, 'missing')).toBeNull();
    expect(readKeyed(null, 'max')).toBeNull();
  });
});
