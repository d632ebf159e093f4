import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { backendConflict, withoutCredentials } from '../../src/roles/backend-sharing.js';

const proc = (id: string, host: string, backend: string) => ({ id, host, role: 'worker' as const, backend });

describe('processes sharing records and a state backend', () => {
  it('lets processes of one machine share a file:// backend, and processes anywhere share a remote one', () => {
    const file = 'file:///srv/clusterd/state';
    assert.equal(backendConflict({ host: 'a', role: 'api', backend: file }, [proc('w1', 'a', file), proc('w2', 'a', file)]), null);
    const pg = 'postgres://clusterd@db:5432/state';
    assert.equal(backendConflict({ host: 'a', role: 'worker', backend: pg }, [proc('w1', 'b', pg), proc('w2', 'c', pg)]), null);
    assert.equal(backendConflict({ host: 'a', role: 'worker', backend: file }, []), null);
  });

  it('refuses a file:// backend with a process on another machine, and any backend other than the one in use', () => {
    const file = 'file:///srv/clusterd/state';
    assert.match(
      backendConflict({ host: 'a', role: 'worker', backend: file }, [proc('w1', 'b', file)]) ?? '',
      /is a directory of this machine \(a\), but worker process w1 on b/,
    );
    assert.match(
      backendConflict({ host: 'a', role: 'worker', backend: 's3://bucket' }, [proc('w1', 'a', 'gs://bucket')]) ?? '',
      /PULUMI_BACKEND_URL is s3:\/\/bucket, but worker process w1 on a shares these records with gs:\/\/bucket/,
    );
  });

  it('compares and shows backend URLs without their password', () => {
    assert.equal(
      withoutCredentials('postgres://clusterd:s3cret@db:5432/state?sslmode=require'),
      'postgres://clusterd@db:5432/state?sslmode=require',
    );
    assert.equal(withoutCredentials('file:///srv/state'), 'file:///srv/state');
  });
});
