import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { approvalRefusal, assertMayApprove, mayApprove, mayChange, mayReadSecrets } from '../../src/auth/permissions.js';
import { principalFor, ROLES, type Role } from '../../src/auth/principal.js';
import { ForbiddenError } from '../../src/errors.js';

const token = (role: Role, team: string | null = role === 'admin' ? null : 'alpha', id = `${role}-${team}`) =>
  principalFor({ id, name: id, team, role });

describe('permissions by role', () => {
  it('a viewer changes nothing and reads no secret; every other role may', () => {
    for (const role of ROLES) {
      assert.equal(mayChange(token(role)), role !== 'viewer', role);
      assert.equal(mayReadSecrets(token(role)), role !== 'viewer', role);
    }
  });

  it("approves: an admin, or an approver of the request's team; a member or a viewer never", () => {
    const request = { team: 'alpha', requestedByTokenId: 'someone-else' };
    const allowed = ROLES.filter((role) => mayApprove(token(role), request));
    assert.deepEqual(allowed, ['admin', 'approver']);
    assert.equal(
      approvalRefusal(token('member'), request),
      'a member token cannot approve; that takes an admin token or an approver token of team "alpha"',
    );
    assert.equal(
      approvalRefusal(token('viewer'), request),
      'a viewer token cannot approve; that takes an admin token or an approver token of team "alpha"',
    );
  });

  it("an approver of another team does not approve, nor one of no single team's request", () => {
    assert.match(approvalRefusal(token('approver', 'beta'), { team: 'alpha', requestedByTokenId: 'x' })!, /only requests of its own team/);
    assert.equal(
      approvalRefusal(token('approver'), { team: null, requestedByTokenId: 'x' }),
      'an approver approves only requests of its own team; this takes an admin token',
    );
    assert.equal(approvalRefusal(token('admin'), { team: null, requestedByTokenId: 'x' }), null);
  });

  it('nobody approves their own request, an admin included', () => {
    for (const role of ROLES) {
      const p = token(role);
      const why = approvalRefusal(p, { team: 'alpha', requestedByTokenId: p.tokenId });
      assert.match(why!, /^nobody approves their own request: this token made it/, role);
      assert.throws(() => assertMayApprove(p, { team: 'alpha', requestedByTokenId: p.tokenId }), ForbiddenError);
    }
  });

  it('the principal of a token says admin exactly for the admin role', () => {
    assert.deepEqual(
      ROLES.map((role) => token(role).admin),
      [true, false, false, false],
    );
  });
});
