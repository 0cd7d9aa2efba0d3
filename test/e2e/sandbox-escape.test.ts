// Issue 17 acceptance, part 1: what a model-written `npm test` tries to see or touch outside its
// workspace — other processes, the agent, host files, the network. Each attempt reports what it
// saw and the test checks the specific refusal (ENOENT, ESRCH, ECONNREFUSED…), never just exit != 0.
import { existsSync } from 'node:fs';
import { createConnection, createServer, isIP } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attempt, type EscapeHost, SECRET, startEscapeHost } from './support/escape.js';

let host: EscapeHost;

beforeAll(async () => {
  host = await startEscapeHost();
});

afterAll(async () => {
  await host?.close();
});

/** Whether a TCP connection from the agent itself (outside the sandbox) to host:port succeeds. */
function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host, port });
    s.once('connect', () => resolve(s.destroy() === s));
    s.once('error', () => resolve(false));
  });
}

/** The Redis the agent is configured with (REDIS_URL; inside the image: the compose service `redis`). */
function agentRedis(): { host: string; port: number } {
  const url = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  return { host: url.hostname, port: Number(url.port || 6379) };
}

describe('other processes and the agent', () => {
  it("cannot read the agent's or another process's environ (secrets)", async () => {
    const { seen } = await attempt(
      host,
      'environ',
      `const fs = require('fs');
      const leaked = fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).filter((p) => {
        try { return fs.readFileSync('/proc/' + p + '/environ', 'utf8').includes('${SECRET}'); } catch { return false; }
      });
      report({ agent: at(targets.agentPid, targets.agentCmdline, () => fs.readFileSync('/proc/' + targets.agentPid + '/environ')),
        holder: at(targets.secretPid, targets.secretCmdline, () => fs.readFileSync('/proc/' + targets.secretPid + '/environ')), leaked });`,
    );
    // ENOENT: no such pid in the sandbox; another-process: the number is one of the sandbox's own.
    expect(seen?.leaked).toEqual([]);
    expect(['ENOENT', 'another-process']).toContain(seen?.agent);
    expect(['ENOENT', 'another-process']).toContain(seen?.holder);
  });

  it('cannot signal the agent', async () => {
    const { seen } = await attempt(
      host,
      'signal',
      `const agent = (fn) => at(targets.agentPid, targets.agentCmdline, fn);
      report({ term: agent(() => process.kill(targets.agentPid, 'SIGTERM')),
        kill: at(targets.secretPid, targets.secretCmdline, () => process.kill(targets.secretPid, 'SIGKILL')),
        probe: agent(() => process.kill(targets.agentPid, 0)) });`,
    );
    for (const result of [seen?.term, seen?.kill, seen?.probe])
      expect(['ESRCH', 'another-process']).toContain(result);
    expect(() => process.kill(process.pid, 0)).not.toThrow();
    expect(() => process.kill(host.targets.secretPid, 0)).not.toThrow();
  });

  it('cannot ptrace the agent (its /proc/<pid>/mem, its fds, its cwd)', async () => {
    const { seen } = await attempt(
      host,
      'ptrace',
      `const fs = require('fs'); const p = '/proc/' + targets.agentPid;
      const agent = (fn) => at(targets.agentPid, targets.agentCmdline, fn);
      report({ mem: agent(() => fs.openSync(p + '/mem', 'r')), fd: agent(() => fs.readdirSync(p + '/fd')),
        cwd: agent(() => fs.readlinkSync(p + '/cwd')) });`,
    );
    for (const result of [seen?.mem, seen?.fd, seen?.cwd])
      expect(['ENOENT', 'another-process']).toContain(result);
  });

  it('sees only its own processes: pid 1 is the sandbox, the agent is not listed', async () => {
    const { seen } = await attempt(
      host,
      'pids',
      `const fs = require('fs');
      const pids = fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).map(Number);
      const names = pids.map((p) => { try { return fs.readFileSync('/proc/' + p + '/comm', 'utf8').trim(); } catch { return '?'; } });
      report({ count: pids.length, max: Math.max(...pids), names, hasAgent: pids.includes(targets.agentPid) });`,
    );
    expect(seen?.hasAgent).toBe(false);
    // bwrap's init, npm, sh and node: a handful of small pids, none of the host's hundreds.
    expect(seen?.count).toBeLessThan(10);
    expect(seen?.max).toBeLessThan(50);
    expect(seen?.names).toContain('bwrap');
  });
});

describe('files outside the workspace', () => {
  it('writes to /tmp land in a private tmpfs that is gone afterwards', async () => {
    const { seen } = await attempt(
      host,
      'tmp',
      `const fs = require('fs'); fs.writeFileSync('/tmp/ns-escape-marker', 'x');
      report({ wrote: code(() => fs.readFileSync('/tmp/ns-escape-marker')), host: code(() => fs.writeFileSync(targets.outside + '/m', 'x')) });`,
    );
    expect(seen).toEqual({ wrote: 'ok', host: 'ENOENT' });
    expect(existsSync('/tmp/ns-escape-marker')).toBe(false);
    expect(existsSync(join(host.targets.outside, 'm'))).toBe(false);
  });

  it("cannot write the host's HOME; its own HOME is private", async () => {
    const { seen } = await attempt(
      host,
      'home',
      `const fs = require('fs'); const os = require('os');
      fs.writeFileSync(os.homedir() + '/.ns-marker', 'x');
      report({ home: os.homedir(), hostHome: code(() => fs.writeFileSync(targets.hostHome + '/.ns-escape-marker', 'x')) });`,
    );
    expect(seen?.home).toBe('/home/nightshift');
    expect(['ENOENT', 'EROFS', 'EACCES']).toContain(seen?.hostHome);
    expect(existsSync(join(host.targets.hostHome, '.ns-escape-marker'))).toBe(false);
    expect(existsSync(join(host.targets.hostHome, '.ns-marker'))).toBe(false);
  });

  it('cannot read or write the memory directory', async () => {
    const { seen } = await attempt(
      host,
      'memory',
      `const fs = require('fs');
      report({ read: code(() => fs.readFileSync(targets.memoryDir + '/team-state.md')),
        write: code(() => fs.writeFileSync(targets.memoryDir + '/ALERT-fake.md', 'x')) });`,
    );
    expect(seen).toEqual({ read: 'ENOENT', write: 'ENOENT' });
    expect(existsSync(join(host.targets.memoryDir, 'ALERT-fake.md'))).toBe(false);
  });

  it("cannot read or write another run's workspace", async () => {
    const { seen } = await attempt(
      host,
      'other-run',
      `const fs = require('fs');
      report({ read: code(() => fs.readFileSync(targets.otherWorkspace + '/secret.txt')),
        list: code(() => fs.readdirSync(require('path').dirname(targets.otherWorkspace))),
        write: code(() => fs.writeFileSync(targets.otherWorkspace + '/pwned', 'x')) });`,
    );
    // The workspaces folder exists (the path to this workspace) but shows only this run.
    expect(seen).toMatchObject({ read: 'ENOENT', list: 'ok', write: 'ENOENT' });
    expect(existsSync(join(host.targets.otherWorkspace, 'pwned'))).toBe(false);
  });

  it('cannot read /etc/shadow or gshadow; /etc has only what programs need', async () => {
    const { seen } = await attempt(
      host,
      'shadow',
      `const fs = require('fs');
      report({ shadow: code(() => fs.readFileSync('/etc/shadow')), gshadow: code(() => fs.readFileSync('/etc/gshadow')),
        sshd: code(() => fs.readdirSync('/etc/ssh')), npmrc: code(() => fs.readFileSync('/etc/npmrc')),
        passwd: code(() => fs.readFileSync('/etc/passwd')) });`,
    );
    expect(seen).toEqual({
      shadow: 'ENOENT',
      gshadow: 'ENOENT',
      sshd: 'ENOENT',
      npmrc: 'ENOENT',
      passwd: 'ok',
    });
  });

  it('cannot read ~/.ssh, /root or /home of the host', async () => {
    const { seen } = await attempt(
      host,
      'ssh',
      `const fs = require('fs');
      report({ fake: code(() => fs.readFileSync(targets.fakeHome + '/.ssh/id_ed25519')),
        real: code(() => fs.readdirSync(targets.hostHome + '/.ssh')), root: code(() => fs.readdirSync('/root')),
        home: fs.readdirSync('/home') });`,
    );
    expect(seen).toMatchObject({ fake: 'ENOENT', real: 'ENOENT', root: 'ENOENT', home: ['nightshift'] });
  });

  it('cannot reach the Docker socket (a stand-in unix socket; the test machine has no engine)', async () => {
    const { seen } = await attempt(
      host,
      'docker',
      `const net = require('net');
      const tryConnect = (path) => new Promise((r) => { const s = net.createConnection(path);
        s.on('connect', () => { s.destroy(); r('connected'); }); s.on('error', (e) => r(e.code)); });
      Promise.all([tryConnect(targets.dockerSocket), tryConnect('/var/run/docker.sock'), tryConnect('/run/docker.sock')])
        .then(([fake, varRun, run]) => report({ fake, varRun, run }));`,
    );
    expect(seen).toEqual({ fake: 'ENOENT', varRun: 'ENOENT', run: 'ENOENT' });
    expect(host.accepted()).toBe(0);
  });

  it('cannot write the system directories, a host binary or remount them', async () => {
    const { seen } = await attempt(
      host,
      'system',
      `const fs = require('fs'); const { spawnSync } = require('child_process');
      const remount = spawnSync('mount', ['-o', 'remount,rw', '/usr'], { encoding: 'utf8' });
      report({ usr: code(() => fs.writeFileSync('/usr/bin/ns-escape', 'x')), etc: code(() => fs.writeFileSync('/etc/passwd', 'x')),
        git: code(() => fs.openSync('/usr/bin/git', 'r+')), self: code(() => fs.openSync('/proc/self/exe', 'r+')),
        remount: remount.status === 0 ? 'ok' : remount.stderr.split('\\n')[0] });`,
    );
    // Never root on the host: not even through /proc/self/exe (the runc CVE-2019-5736 path).
    // The read-only bind refuses root (EROFS); a non-root agent (the image's uid 1000) is refused a
    // root-owned binary by its permissions before the mount is looked at (EACCES).
    const notOwner = process.getuid?.() === 0 ? 'EROFS' : 'EACCES';
    expect(seen).toMatchObject({ usr: 'EROFS', etc: 'EROFS', git: notOwner });
    expect([notOwner, 'ETXTBSY']).toContain(seen?.self);
    expect(seen?.remount).toMatch(/superuser|permission denied|not permitted/i);
    expect(existsSync('/usr/bin/ns-escape')).toBe(false);
  });
});

describe('the network', () => {
  const connect = (target: string) =>
    `const net = require('net');
    new Promise((r) => { const s = net.createConnection(${target});
      s.on('connect', () => { s.destroy(); r('connected'); }); s.on('error', (e) => r(e.code)); })
      .then((result) => report({ result }));`;

  it('cannot connect to Redis on 127.0.0.1:6379, which the agent itself reaches', async () => {
    // Something must listen there for the refusal to mean anything: the machine's Redis, or a stand-in.
    const standIn = (await reachable('127.0.0.1', 6379)) ? undefined : createServer((s) => s.destroy());
    if (standIn) await new Promise<void>((r) => standIn.listen(6379, '127.0.0.1', r));
    try {
      expect(await reachable('127.0.0.1', 6379)).toBe(true);
      const { seen } = await attempt(host, 'redis', connect("{ host: '127.0.0.1', port: 6379 }"));
      expect(seen).toEqual({ result: 'ECONNREFUSED' });
    } finally {
      standIn?.close();
    }
  });

  it("cannot reach the agent's own Redis (REDIS_URL: in a container, the compose service by name)", async () => {
    const redis = agentRedis();
    expect(await reachable(redis.host, redis.port), `the agent reaches ${redis.host}:${redis.port}`).toBe(
      true,
    );
    const { seen } = await attempt(
      host,
      'redis-url',
      connect(`{ host: ${JSON.stringify(redis.host)}, port: ${redis.port} }`),
    );
    // A name cannot be resolved without a network; an address is refused (loopback) or unroutable.
    const expected =
      isIP(redis.host) === 0
        ? ['EAI_AGAIN', 'ENOTFOUND']
        : redis.host.startsWith('127.') || redis.host === '::1'
          ? ['ECONNREFUSED']
          : ['ENETUNREACH'];
    expect(expected).toContain(seen?.result);
  });

  it("cannot connect to another local TCP listener (the suite's own)", async () => {
    const { seen } = await attempt(
      host,
      'listener',
      connect(`{ host: '127.0.0.1', port: ${host.targets.listenerPort} }`),
    );
    expect(seen).toEqual({ result: 'ECONNREFUSED' });
    expect(host.accepted()).toBe(0);
  });

  it('has no route off the machine', async () => {
    const { seen } = await attempt(host, 'internet', connect("{ host: '1.1.1.1', port: 443 }"));
    expect(seen).toEqual({ result: 'ENETUNREACH' });
  });

  it('cannot resolve a DNS name', async () => {
    const { seen } = await attempt(
      host,
      'dns',
      `require('dns').lookup('example.com', (e, address) => report({ result: e ? e.code : address }));`,
    );
    expect(['EAI_AGAIN', 'ENOTFOUND']).toContain(seen?.result);
  });
});

describe("the agent's secrets", () => {
  it('the command sees only PATH, HOME, LANG, CI, NODE_ENV (and what npm adds), none of the agent env', async () => {
    process.env.ANTHROPIC_API_KEY = SECRET;
    try {
      const { seen, result } = await attempt(
        host,
        'env',
        `report({ keys: Object.keys(process.env).filter((k) => !k.startsWith('npm_')) });`,
      );
      expect(result.stdout).not.toContain(SECRET);
      expect(seen?.keys).not.toContain('ANTHROPIC_API_KEY');
      expect(seen?.keys).not.toContain('REDIS_URL');
      expect(seen?.keys).toEqual(expect.arrayContaining(['PATH', 'HOME', 'LANG', 'CI', 'NODE_ENV']));
    } finally {
      delete process.env.ANTHROPIC_API_KEY;
    }
  });
});
