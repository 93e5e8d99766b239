import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

// A one-node Slurm cluster on this machine, private to one test: Debian's slurm-wlm and munge,
// started without systemd from a temp folder (its own munge key and socket, slurm.conf, state,
// spool and logs, free ports), so it never touches a system-wide Slurm or munge. Every daemon
// is a child of the test, stopped by its pid.

const TOOLS = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scancel', 'scontrol', 'sinfo', 'mknod'];

function onPath(tool: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((d) => d && existsSync(path.join(d, tool)));
}

/** Why a local Slurm cannot run here (the test is skipped with this line), or undefined. */
export function slurmUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'Slurm runs on Linux only';
  if (process.getuid?.() !== 0) return 'slurmd and munged need root';
  // Debian keeps the daemons in /usr/sbin, which a non-login PATH may lack.
  const missing = TOOLS.filter((t) => !onPath(t) && !existsSync(path.join('/usr/sbin', t)));
  if (missing.length) return `${missing.join(', ')} not installed (apt-get install -y slurm-wlm munge, as .ci/run does)`;
  const probe = path.join(os.tmpdir(), `bayes-peft-mknod-${process.pid}`);
  const r = spawnSync('mknod', [probe, 'c', '195', '250']);
  spawnSync('rm', ['-f', probe]);
  if (r.status !== 0) return `mknod cannot make the fake GPU devices here (${String(r.stderr).trim()})`;
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `every` ms until it returns a value, or throws `what` after `ms`. */
export async function waitFor<T>(what: string, ms: number, check: () => Promise<T | undefined> | T | undefined, every = 250): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const got = await check();
    if (got !== undefined) return got;
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await sleep(every);
  }
}

export interface ClusterOptions {
  /** slurm.conf MaxArraySize: small, to make the CLI split an array. */
  readonly maxArraySize: number;
  /** Fake GPUs of the node (gres.conf File= devices made with mknod). */
  readonly gpus: number;
}

export class LocalCluster {
  readonly host = os.hostname().split('.')[0];
  readonly conf: string;
  private readonly daemons: { name: string; child: ChildProcess }[] = [];

  constructor(readonly dir: string) {
    this.conf = path.join(dir, 'slurm.conf');
  }

  /**
   * The environment every Slurm command and daemon gets, and through sbatch's --export=ALL every
   * job: the test's own, so a job computes as a local run in the test does, plus this cluster.
   */
  get env(): NodeJS.ProcessEnv {
    return { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin`, SLURM_CONF: this.conf };
  }

  /** A Slurm client command, bounded; its stdout, or an error with its stderr. */
  command(tool: string, args: readonly string[]): string {
    const r = spawnSync(tool, args, { env: this.env, encoding: 'utf8', timeout: 30_000 });
    if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.error?.message}`);
    return r.stdout;
  }

  async start(options: ClusterOptions): Promise<void> {
    const d = (...p: string[]) => path.join(this.dir, ...p);
    for (const sub of ['munge', 'state', 'spool', 'log', 'dev']) await fs.mkdir(d(sub), { recursive: true });
    // munged refuses a key others can read and warns about a socket folder others cannot enter.
    await fs.chmod(d('munge'), 0o711);
    await fs.writeFile(d('munge', 'munge.key'), randomBytes(1024), { mode: 0o600 });
    const socket = d('munge', 'munge.socket');
    this.spawnDaemon('munged', ['--foreground', '--force', `--socket=${socket}`, `--key-file=${d('munge', 'munge.key')}`, `--pid-file=${d('munge', 'munged.pid')}`, `--seed-file=${d('munge', 'seed')}`, `--log-file=${d('log', 'munged.log')}`]);
    await waitFor('the munge socket', 10_000, () => (existsSync(socket) ? true : undefined));

    // Fake GPUs: slurmd checks every gres.conf File= exists, else the node drains.
    const devices = Array.from({ length: options.gpus }, (_, i) => d('dev', `gpu${i}`));
    for (const [i, dev] of devices.entries()) {
      const r = spawnSync('mknod', [dev, 'c', '195', String(i)]);
      if (r.status !== 0) throw new Error(`mknod ${dev}: ${r.stderr}`);
    }
    const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
    await fs.writeFile(this.conf, this.slurmConf(options, socket, ctldPort, slurmdPort));
    await fs.writeFile(d('gres.conf'), `NodeName=${this.host} Name=gpu File=${d('dev', 'gpu')}[0-${options.gpus - 1}]\n`);

    this.spawnDaemon('slurmctld', ['-D', '-i']);
    this.spawnDaemon('slurmd', ['-D', '-N', this.host]);
    await waitFor('the node to be idle (sinfo)', 60_000, async () => {
      for (const { name, child } of this.daemons) {
        if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}):\n${await this.logs()}`);
      }
      const r = spawnSync('sinfo', ['-h', '-N', '-o', '%T'], { env: this.env, encoding: 'utf8', timeout: 10_000 });
      const state = r.status === 0 ? r.stdout.trim() : '';
      if (/drain|down/.test(state)) throw new Error(`the node is ${state}:\n${await this.logs()}`);
      return state === 'idle' ? state : undefined;
    }, 500);
  }

  private slurmConf(o: ClusterOptions, socket: string, ctldPort: number, slurmdPort: number): string {
    const d = (...p: string[]) => path.join(this.dir, ...p);
    return [
      'ClusterName=bayespeft',
      `SlurmctldHost=${this.host}(127.0.0.1)`,
      'SlurmUser=root',
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `AuthInfo=socket=${socket}`,
      `StateSaveLocation=${d('state')}`,
      `SlurmdSpoolDir=${d('spool')}`,
      `SlurmctldPidFile=${d('slurmctld.pid')}`,
      `SlurmdPidFile=${d('slurmd.pid')}`,
      `SlurmctldLogFile=${d('log', 'slurmctld.log')}`,
      `SlurmdLogFile=${d('log', 'slurmd.log')}`,
      'SelectType=select/cons_tres',
      // Cores only: with memory a consumable too, a job without --mem takes the whole node.
      'SelectTypeParameters=CR_Core',
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'MpiDefault=none',
      'ReturnToService=2',
      'AccountingStorageType=accounting_storage/none',
      'JobAcctGatherType=jobacct_gather/none',
      'JobCompType=jobcomp/none',
      'GresTypes=gpu',
      `MaxArraySize=${o.maxArraySize}`,
      // SIGTERM to SIGKILL: a cancelled run's checkpoint after its current step fits well within.
      'KillWait=10',
      'InactiveLimit=0',
      `NodeName=${this.host} NodeHostname=${this.host} NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000 Gres=gpu:${o.gpus} State=UNKNOWN`,
      `PartitionName=debug Nodes=${this.host} Default=YES MaxTime=INFINITE State=UP`,
      '',
    ].join('\n');
  }

  private spawnDaemon(name: string, args: string[]): void {
    const out = openSync(path.join(this.dir, 'log', `${name}.out`), 'a');
    try {
      const child = spawn(name, args, { env: this.env, stdio: ['ignore', out, out] });
      child.on('error', () => undefined);
      this.daemons.push({ name, child });
    } finally {
      closeSync(out);
    }
  }

  /** The daemons' own output and logs, for a failure message. */
  async logs(): Promise<string> {
    const dir = path.join(this.dir, 'log');
    const names = await fs.readdir(dir).catch(() => []);
    const parts = await Promise.all(names.map(async (n) => `--- ${n}\n${(await fs.readFile(path.join(dir, n), 'utf8')).split('\n').slice(-15).join('\n')}`));
    return parts.join('\n');
  }

  /**
   * Cancels every job, waits for them to leave, kills any process still carrying this cluster's
   * SLURM_CONF (a job's slurmstepd or run that outlived it), then stops slurmd, slurmctld and
   * munged, each by its pid: SIGTERM, then SIGKILL after 10 s.
   */
  async stop(): Promise<void> {
    const alive = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;
    if (this.daemons.some((d) => d.name === 'slurmctld' && alive(d.child))) {
      spawnSync('scancel', ['--user=root'], { env: this.env, timeout: 10_000 });
      await waitFor('the jobs to end', 20_000, () => {
        const r = spawnSync('squeue', ['-h', '-o', '%i'], { env: this.env, encoding: 'utf8', timeout: 10_000 });
        return r.status !== 0 || r.stdout.trim() === '' ? true : undefined;
      }).catch(() => undefined);
    }
    const daemonPids = new Set(this.daemons.map((d) => d.child.pid));
    for (const pid of await this.processesOfThisCluster()) if (!daemonPids.has(pid)) killQuietly(pid, 'SIGKILL');
    for (const { child } of [...this.daemons].reverse()) {
      if (!alive(child)) continue;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  }

  /** Pids whose environment holds SLURM_CONF=<this cluster's slurm.conf>: only this test's. */
  private async processesOfThisCluster(): Promise<number[]> {
    const marker = `SLURM_CONF=${this.conf}\0`;
    const pids: number[] = [];
    for (const name of await fs.readdir('/proc').catch(() => [])) {
      if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
      const environ = await fs.readFile(`/proc/${name}/environ`, 'latin1').catch(() => '');
      if (environ.includes(marker)) pids.push(Number(name));
    }
    return pids;
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone already
  }
}
