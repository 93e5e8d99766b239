import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseMaxArraySize, readMaxArraySize, submitScript } from './cluster';

// sbatch and scontrol replaced by stubs on PATH (the real ones: slurm.e2e.test.ts).

describe('sbatch and scontrol', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bayes-peft-slurm-cluster-'));
    env = { PATH: dir };
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  const stub = (name: string, body: string) => fs.writeFile(path.join(dir, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });

  it('parseMaxArraySize reads the line of scontrol show config', () => {
    expect(parseMaxArraySize('MailProg                = /bin/mail\nMaxArraySize            = 4001\nMaxBatchRequeue = 5\n')).toBe(4001);
    expect(parseMaxArraySize('MaxJobCount = 10000\n')).toBeUndefined();
  });

  it("readMaxArraySize: the cluster's value, else Slurm's default 1001 with the reason", async () => {
    await stub('scontrol', `[ "$1 $2" = "show config" ] && echo 'MaxArraySize            = 250'`);
    expect(await readMaxArraySize(env)).toEqual({ value: 250 });
    await stub('scontrol', `echo 'scontrol: error: Unable to contact slurm controller' >&2; exit 1`);
    expect(await readMaxArraySize(env)).toEqual({ value: 1001, note: expect.stringContaining('scontrol show config failed: scontrol: error: Unable to contact slurm controller') });
    await fs.rm(path.join(dir, 'scontrol'));
    expect(await readMaxArraySize(env)).toEqual({ value: 1001, note: expect.stringContaining('scontrol is not on PATH') });
  });

  it('submitScript passes --parsable (and the dependency) and returns the job id without the cluster name', async () => {
    await stub('sbatch', `printf '%s\\n' "$@" > "${dir}/args"; echo '4242;lumi'`);
    expect(await submitScript('/x/demo.sbatch', { env })).toBe('4242');
    expect(await fs.readFile(path.join(dir, 'args'), 'utf8')).toBe('--parsable\n/x/demo.sbatch\n');
    expect(await submitScript('/x/demo.part2.sbatch', { env, dependsOn: '4242' })).toBe('4242');
    expect(await fs.readFile(path.join(dir, 'args'), 'utf8')).toBe('--parsable\n--dependency=afterany:4242\n/x/demo.part2.sbatch\n');
  });

  it("sbatch refusing is an error carrying sbatch's own message", async () => {
    await stub('sbatch', `echo 'sbatch: error: Batch job submission failed: Invalid partition name specified' >&2; exit 1`);
    await expect(submitScript('/x/demo.sbatch', { env })).rejects.toThrow(
      'sbatch refused /x/demo.sbatch (exit 1):\nsbatch: error: Batch job submission failed: Invalid partition name specified',
    );
  });

  it('sbatch missing, or printing no job id, is an error saying what to do', async () => {
    await expect(submitScript('/x/demo.sbatch', { env })).rejects.toThrow(/^sbatch is not on PATH: submit from a Slurm login node .* --dry-run .* The script is in \/x\/demo.sbatch$/);
    await stub('sbatch', `echo 'Submitted batch job'`);
    await expect(submitScript('/x/demo.sbatch', { env })).rejects.toThrow('printed no job id: "Submitted batch job"');
  });
});
