import { hasClearFields, type SpecSealer } from '../secrets/spec-sealer.js';
import { json } from './sql-helpers.js';
import type { SqlClient } from './sql.js';

/** Rows looked at per statement. */
const BATCH = 200;

interface Row {
  id: string;
  blueprint: string;
  spec: Record<string, unknown> | null;
  applied_spec?: Record<string, unknown> | null;
}

/**
 * Seals the write-only fields of specs stored before sealing existed (or while a blueprint did not yet
 * mark a field write-only): clusters' desired and applied specs and operations' copies. Pages through
 * both tables in id order, a batch per statement; a value already sealed is left as it is, so running
 * it twice, or in several processes at once, changes nothing more.
 * @returns how many rows it sealed
 */
export async function sealStoredSpecs(
  db: SqlClient,
  sealer: Pick<SpecSealer, 'seal'>,
  fieldsOf: (blueprint: string) => readonly string[],
): Promise<number> {
  let sealed = 0;
  const seal = (row: Row, spec: Record<string, unknown> | null | undefined) =>
    spec ? sealer.seal(spec, fieldsOf(row.blueprint)) : (spec ?? null);
  const needs = (row: Row, spec: Record<string, unknown> | null | undefined) => hasClearFields(spec ?? null, fieldsOf(row.blueprint));

  for (let after = '00000000-0000-0000-0000-000000000000'; ;) {
    const { rows } = await db.query<Row>('SELECT id, blueprint, spec, applied_spec FROM clusters WHERE id > $1 ORDER BY id LIMIT $2', [
      after,
      BATCH,
    ]);
    for (const row of rows.filter((r) => needs(r, r.spec) || needs(r, r.applied_spec))) {
      await db.query('UPDATE clusters SET spec = $2::jsonb, applied_spec = $3::jsonb WHERE id = $1', [
        row.id,
        json(seal(row, row.spec)),
        json(seal(row, row.applied_spec)),
      ]);
      sealed++;
    }
    if (rows.length < BATCH) break;
    after = rows[rows.length - 1]!.id;
  }
  for (let after = '00000000-0000-0000-0000-000000000000'; ;) {
    const { rows } = await db.query<Row>(
      'SELECT o.id, c.blueprint, o.spec FROM operations o JOIN clusters c ON c.id = o.cluster_id WHERE o.id > $1 ORDER BY o.id LIMIT $2',
      [after, BATCH],
    );
    for (const row of rows.filter((r) => needs(r, r.spec))) {
      await db.query('UPDATE operations SET spec = $2::jsonb WHERE id = $1', [row.id, json(seal(row, row.spec))]);
      sealed++;
    }
    if (rows.length < BATCH) break;
    after = rows[rows.length - 1]!.id;
  }
  return sealed;
}
