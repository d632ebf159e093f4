import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, it } from 'vitest';
import type { Role } from '../../src/auth/principal.js';
import { ensureAdminToken, ensureGivenAdminToken, hashToken } from '../../src/auth/tokens.js';
import { databaseClock } from '../../src/store/database-clock.js';
import { migrate } from '../../src/store/migrations.js';
import type { SqlClient } from '../../src/store/sql.js';
import { SqlTokenStore } from '../../src/store/sql-token-store.js';
import { pgliteBackend, postgresBackend, type Backend } from '../support/databases.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tokenSuite(label: string, openBackend: () => Promise<Backend>): void {
  describe(`SqlTokenStore over ${label}`, () => {
    let backend: Backend;
    let db: SqlClient;
    let tokens: SqlTokenStore;
    /** The same records through another connection, as another API process reaches them (PGlite has one). */
    let otherTokens: SqlTokenStore;
    let dbNow: () => Promise<number>;

    beforeAll(async () => {
      backend = await openBackend();
      const [first, second = first] = await backend.clients(2);
      await migrate(first!);
      db = first!;
      tokens = new SqlTokenStore(first!);
      otherTokens = new SqlTokenStore(second!);
      dbNow = databaseClock(first!);
    });
    afterAll(() => backend.cleanup());

    const create = (role: Role, expiresAt: string | null = null, team = role === 'admin' ? null : 'payments') => {
      const hash = `sha256:${randomUUID()}`;
      return tokens.createToken({ name: `${role}-${hash.slice(7, 13)}`, team, role, hash, expiresAt }).then((t) => ({ ...t, hash }));
    };
    /** `ms` from now by the database's clock. */
    const fromNow = async (ms: number) => new Date((await dbNow()) + ms).toISOString();

    describe('admin tokens', () => {
      // Which admin token is the last is a matter of the whole table: each test starts with none active.
      beforeEach(async () => {
        await db.query(`UPDATE api_tokens SET revoked_at = now(), revoked_by = id WHERE role = 'admin' AND revoked_at IS NULL`);
      });

      it('refuses to revoke the last active admin token, and revokes it once another exists', async () => {
        const first = await create('admin');
        assert.equal(await tokens.countActiveAdminTokens(), 1);
        assert.deepEqual(await tokens.revokeToken(first.id, first.id), { refused: 'last-admin' });
        const second = await create('admin');
        const outcome = await tokens.revokeToken(first.id, second.id);
        assert.ok('revoked' in outcome);
        assert.equal(outcome.revoked.state, 'revoked');
        assert.equal(outcome.revoked.revokedBy, second.id);
        assert.deepEqual(await tokens.revokeToken(second.id, second.id), { refused: 'last-admin' });
      });

      it('an expired admin token does not count: it can be revoked, and the last active one cannot', async () => {
        const active = await create('admin');
        const expired = await create('admin', await fromNow(-1_000));
        assert.equal(await tokens.countActiveAdminTokens(), 1);
        assert.ok('revoked' in (await tokens.revokeToken(expired.id, active.id)));
        assert.deepEqual(await tokens.revokeToken(active.id, active.id), { refused: 'last-admin' });
      });

      it('a start that finds no active admin token (every one expired) writes a new one; none while one is active', async () => {
        const dir = await mkdtemp(path.join(tmpdir(), 'clusterd-admin-token-'));
        try {
          await create('admin', await fromNow(-1_000));
          assert.equal(await tokens.countActiveAdminTokens(), 0);
          const file = await ensureAdminToken(tokens, dir);
          assert.equal(file, path.join(dir, 'admin-token'));
          const written = (await readFile(file, 'utf8')).trim();
          assert.equal((await tokens.findTokenByHash(hashToken(written)))?.role, 'admin');
          assert.equal(await ensureAdminToken(tokens, dir), null);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      });

      it('two revocations at once of the last two admin tokens: exactly one succeeds, each time', async () => {
        for (let round = 0; round < 10; round++) {
          await db.query(`UPDATE api_tokens SET revoked_at = now(), revoked_by = id WHERE role = 'admin' AND revoked_at IS NULL`);
          const [a, b] = [await create('admin'), await create('admin')];
          // Each revokes the other, through its own connection: as two admins on two API processes would.
          const outcomes = await Promise.all([tokens.revokeToken(b.id, a.id), otherTokens.revokeToken(a.id, b.id)]);
          const kinds = outcomes.map((o) => ('revoked' in o ? 'revoked' : o.refused)).sort();
          assert.deepEqual(kinds, ['last-admin', 'revoked'], `round ${round}`);
          assert.equal(await tokens.countActiveAdminTokens(), 1);
        }
      });
    });

    it('finds only an active token by its hash: an expired one, by the database clock, is as unknown as one never issued', async () => {
      const lasting = await create('member', await fromNow(3_600_000));
      const brief = await create('viewer', await fromNow(1_500));
      const past = await create('approver', await fromNow(-1));
      assert.equal((await tokens.findTokenByHash(lasting.hash))?.id, lasting.id);
      assert.equal((await tokens.findTokenByHash(brief.hash))?.state, 'active');
      assert.equal(await tokens.findTokenByHash(past.hash), null);
      assert.equal((await tokens.getToken(past.id))?.state, 'expired');
      // Nothing is written when a token expires: the same row, read later, no longer authenticates.
      while ((await dbNow()) <= Date.parse(brief.expiresAt!)) await sleep(100);
      assert.equal(await tokens.findTokenByHash(brief.hash), null);
      assert.equal((await tokens.getToken(brief.id))?.state, 'expired');
    });

    it('revokes at once and keeps the row: who and when are shown, the hash no longer authenticates, and a second revocation finds nothing', async () => {
      const admin = await create('admin');
      const member = await create('member');
      const outcome = await tokens.revokeToken(member.id, admin.id);
      assert.ok('revoked' in outcome);
      assert.equal(await tokens.findTokenByHash(member.hash), null);
      const kept = await tokens.getToken(member.id);
      assert.equal(kept?.state, 'revoked');
      assert.equal(kept?.revokedBy, admin.id);
      assert.ok(kept?.revokedAt && Math.abs(Date.parse(kept.revokedAt) - (await dbNow())) < 60_000);
      assert.deepEqual(await tokens.revokeToken(member.id, admin.id), { refused: 'unknown' });
      assert.deepEqual(await tokens.revokeToken(randomUUID(), admin.id), { refused: 'unknown' });
      assert.deepEqual(await tokens.revokeToken('not-a-uuid', admin.id), { refused: 'unknown' });
      assert.equal(await tokens.getToken('not-a-uuid'), null);
    });

    it('lists newest first, by team and by state, in pages', async () => {
      const team = `t-${randomUUID().slice(0, 8)}`;
      // Apart in time: PGlite's clock may give two quick creates the same instant, which the order then breaks by id.
      const apart = async <T>(made: Promise<T>) => {
        const token = await made;
        await new Promise((r) => setTimeout(r, 5));
        return token;
      };
      const a = await apart(create('member', null, team));
      const b = await apart(create('viewer', null, team));
      const c = await apart(create('approver', null, team));
      const admin = await create('admin');
      await tokens.revokeToken(b.id, admin.id);
      const all = await tokens.listTokens({ team, limit: 50 });
      assert.deepEqual(
        all.items.map((t) => [t.id, t.role, t.state]),
        [
          [c.id, 'approver', 'active'],
          [b.id, 'viewer', 'revoked'],
          [a.id, 'member', 'active'],
        ],
      );
      assert.deepEqual(
        (await tokens.listTokens({ team, state: 'active', limit: 50 })).items.map((t) => t.id),
        [c.id, a.id],
      );
      const first = await tokens.listTokens({ team, limit: 2 });
      assert.deepEqual(
        first.items.map((t) => t.id),
        [c.id, b.id],
      );
      const second = await tokens.listTokens({ team, limit: 2, cursor: first.nextCursor! });
      assert.deepEqual(second, { items: [all.items[2]], nextCursor: null });
      assert.ok(!JSON.stringify(all).includes('sha256:'), 'no hash is listed');
    });

    it('records a given first admin token once, from either of two processes racing, and never revives it once revoked', async () => {
      const given = `given-${randomUUID()}-${randomUUID()}`;
      const created = await Promise.all([ensureGivenAdminToken(tokens, given), ensureGivenAdminToken(otherTokens, given)]);
      assert.deepEqual(created.sort(), [false, true]);
      const found = await tokens.findTokenByHash(hashToken(given));
      assert.equal(found?.role, 'admin');
      const other = await create('admin');
      assert.ok('revoked' in (await tokens.revokeToken(found.id, other.id)));
      assert.equal(await ensureGivenAdminToken(tokens, given), false);
      assert.equal(await tokens.findTokenByHash(hashToken(given)), null, 'still revoked');
      await assert.rejects(ensureGivenAdminToken(tokens, 'short'), /CLUSTERD_ADMIN_TOKEN_FILE: the token must be 32 to 512 characters/);
    });

    it('refuses a row whose team does not go with its role', async () => {
      const hash = `sha256:${randomUUID()}`;
      await assert.rejects(tokens.createToken({ name: 'x', team: null, role: 'member', hash, expiresAt: null }), /api_tokens_team_by_role/);
      await assert.rejects(
        tokens.createToken({ name: 'x', team: 'payments', role: 'admin', hash, expiresAt: null }),
        /api_tokens_team_by_role/,
      );
    });
  });
}

tokenSuite('PGlite', pgliteBackend);
const databaseUrl = process.env.TEST_DATABASE_URL!;
tokenSuite('PostgreSQL', () => postgresBackend(databaseUrl));
