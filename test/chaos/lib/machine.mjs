// The machine a chaos, soak or bench run measured on, printed beside its figures (they are upper
// bounds under whatever load the box had).
import { execFileSync } from 'node:child_process';
import { cpus, freemem, totalmem } from 'node:os';

export function machine() {
  const sh = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', timeout: 5000 }).trim();
    } catch (error) {
      return `unavailable (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`;
    }
  };
  return {
    // nproc honours the CPU affinity a container or cgroup gives us; os.cpus() lists the host's.
    nproc: Number(sh('nproc', [])) || cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memTotalGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    memFreeGb: Math.round((freemem() / 2 ** 30) * 10) / 10,
    freeG: sh('free', ['-g']),
    loadavg: sh('cat', ['/proc/loadavg']),
    node: process.version,
    redis: sh('redis-server', ['--version']),
    os: sh('uname', ['-sr']),
  };
}
