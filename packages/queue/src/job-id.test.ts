import * as path from 'node:path';
import { parseJobData } from './job-data';
import { runJobId } from './job-id';
import { checkQueueName } from './queue-name';
import { checkRedisUrl, redactRedisUrl } from './redis-connection';

describe('runJobId', () => {
  it('is the spec file name, a hash of its absolute path and the run id; the same for the same spec however it is named', () => {
    const id = runJobId('/shared/specs/paper.yaml', 'blob-arc-seed1');
    expect(id).toMatch(/^paper-[0-9a-f]{8}\/blob-arc-seed1$/);
    expect(runJobId(path.relative(process.cwd(), '/shared/specs/paper.yaml'), 'blob-arc-seed1')).toBe(id);
  });

  it('differs between two specs with the same run ids, even with the same file name', () => {
    expect(runJobId('/a/paper.yaml', 'mle-toy-seed1')).not.toBe(runJobId('/b/paper.yaml', 'mle-toy-seed1'));
    expect(runJobId('/a/paper.yaml', 'mle-toy-seed1')).not.toBe(runJobId('/a/paper.yaml', 'mle-toy-seed2'));
  });

  it('never holds a colon (BullMQ refuses it in custom ids)', () => {
    expect(runJobId('/x/we:ird spec.yml', 'a:b')).toMatch(/^we_ird_spec-[0-9a-f]{8}\/a_b$/);
  });
});

describe('job data and names', () => {
  it('parseJobData takes what enqueue adds and names the first missing field otherwise', () => {
    const data = { spec: '/s.yaml', run: 'mle-toy-seed1', cwd: '/w', dir: '/w/runs/q/mle-toy-seed1' };
    expect(parseJobData({ ...data, extra: 1 })).toEqual(data);
    expect(() => parseJobData({ spec: '/s.yaml', cwd: '/w' })).toThrow("job data has no 'run'");
    expect(() => parseJobData(undefined)).toThrow("job data has no 'spec'");
  });

  it('checks queue names and Redis URLs up front, and keeps passwords out of log lines', () => {
    expect(checkQueueName('gpu-runs')).toBe('gpu-runs');
    expect(() => checkQueueName('a:b')).toThrow("--queue: 'a:b' is not a queue name");
    expect(checkRedisUrl('redis://10.0.0.5:6379')).toBe('redis://10.0.0.5:6379');
    expect(() => checkRedisUrl('http://10.0.0.5:6379')).toThrow('is not a redis:// or rediss:// URL');
    expect(() => checkRedisUrl('10.0.0.5:6379')).toThrow('is not a URL');
    expect(redactRedisUrl('redis://:s3cret@host:6379/2')).toBe('redis://:***@host:6379/2');
  });
});
