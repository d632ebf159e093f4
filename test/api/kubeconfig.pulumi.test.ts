import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { localSpec, startHarness, type Harness } from '../support/harness.js';

describe('GET /v1/clusters/{name}/kubeconfig', () => {
  let h: Harness;
  let alpha: string;
  let beta: string;

  before(async () => {
    h = await startHarness({ env: { DRIFT_SWEEP_CRON: 'off' } });
    alpha = await h.teamToken('alpha');
    beta = await h.teamToken('beta');
    const res = await h.api('POST', '/v1/clusters', { token: alpha, body: { name: 'kube-one', blueprint: 'local-files', spec: localSpec() } });
    assert.equal((await h.waitFor(res.body.operation.id)).status, 'succeeded');
  });
  after(async () => h?.stop());

  it('hands the decrypted kubeconfig to a caller who may see the cluster, uncached, and records the read', async () => {
    assert.equal((await h.api('GET', '/v1/clusters/kube-one', { token: alpha })).body.outputs.kubeconfig, '[secret]');
    const res = await h.api('GET', '/v1/clusters/kube-one/kubeconfig', { token: alpha });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const kubeconfig = JSON.parse(res.body.kubeconfig);
    assert.equal(kubeconfig.kind, 'Config');
    assert.match(kubeconfig.users[0].user.token, /^[0-9a-f]{32}$/);
    const reads = (await h.api('GET', '/v1/clusters/kube-one/kubeconfig/reads', { token: alpha })).body.items;
    assert.equal(reads.length, 1);
    assert.match(reads[0].readBy, /team alpha/);
  });

  it("answers 404 to another team, and records nothing", async () => {
    assert.equal((await h.api('GET', '/v1/clusters/kube-one/kubeconfig', { token: beta })).status, 404);
    assert.equal((await h.api('GET', '/v1/clusters/kube-one/kubeconfig/reads')).body.items.length, 1);
  });

  it('answers 404 for a cluster whose provision failed (no kubeconfig yet)', async () => {
    const res = await h.api('POST', '/v1/clusters', { token: alpha, body: { name: 'kube-fails', blueprint: 'local-files', spec: localSpec({ failOn: 'create' }) } });
    assert.equal((await h.waitFor(res.body.operation.id)).status, 'failed');
    const answer = await h.api('GET', '/v1/clusters/kube-fails/kubeconfig', { token: alpha });
    assert.equal(answer.status, 404);
    assert.match(answer.body.detail, /no kubeconfig yet/);
  });
});
