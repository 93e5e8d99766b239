import { checkResources, jobNameFrom } from './resources';

describe('checkResources', () => {
  const base = { jobName: 'paper-llama2' };

  it('takes every time format sbatch does', () => {
    for (const time of ['30', '30:00', '24:00:00', '2-12', '2-12:30', '1-12:00:00', 'UNLIMITED']) {
      expect(checkResources({ ...base, time }).time).toBe(time);
    }
  });

  it('refuses time limits sbatch would refuse, naming the formats', () => {
    for (const time of ['24h', '1:2:3:4', '-5', '']) {
      expect(() => checkResources({ ...base, time })).toThrow(/--time '.*' is not a Slurm time limit: minutes, MM:SS, HH:MM:SS/);
    }
  });

  it('refuses counts that are not whole numbers in range', () => {
    expect(() => checkResources({ ...base, maxParallel: 0 })).toThrow('--max-parallel must be a whole number from 1, got 0');
    expect(() => checkResources({ ...base, gpusPerRun: 1.5 })).toThrow('--gpus-per-run must be a whole number from 0');
    expect(() => checkResources({ ...base, cpusPerTask: 0 })).toThrow('--cpus-per-task');
  });

  it('takes extra sbatch options but not a second --array, which would run the wrong runs', () => {
    expect(checkResources({ ...base, sbatchArgs: ['--mem=32G', '--requeue', '-A lab'] }).sbatchArgs).toHaveLength(3);
    expect(() => checkResources({ ...base, sbatchArgs: ['--array=0-3'] })).toThrow('the array is set from the runs');
    expect(() => checkResources({ ...base, sbatchArgs: ['-a0-3'] })).toThrow('the array is set from the runs');
    expect(() => checkResources({ ...base, sbatchArgs: ['mem=32G'] })).toThrow('is not one sbatch option');
    expect(() => checkResources({ ...base, sbatchArgs: ['--mem=1G\necho hi'] })).toThrow('is not one sbatch option');
  });

  it('refuses names that would need quoting in an #SBATCH line', () => {
    expect(() => checkResources({ jobName: 'my job' })).toThrow('--job-name');
    expect(() => checkResources({ ...base, partition: 'gpu;rm' })).toThrow('--partition');
    expect(checkResources({ ...base, partition: 'gpu,gpu-long' }).partition).toBe('gpu,gpu-long');
  });

  it('jobNameFrom makes a job name of any spec name', () => {
    expect(jobNameFrom('paper-llama2')).toBe('paper-llama2');
    expect(jobNameFrom('my sweep (v2)')).toBe('my_sweep_v2');
    expect(jobNameFrom('***')).toBe('bayes-peft');
  });
});
