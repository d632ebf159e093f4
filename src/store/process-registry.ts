import type { SqlClient } from './sql.js';

/** One process of the service, as the others see it. */
export interface ServiceProcess {
  id: string;
  host: string;
  role: 'all' | 'api' | 'worker';
  /** Its state backend URL without credentials. */
  backend: string;
}

/** The live processes sharing the records; a process that stopped renewing its row for `staleMs` is gone. */
export class SqlProcessRegistry {
  constructor(private readonly db: Pick<SqlClient, 'query'>) {}

  /** The other processes seen within `staleMs`. */
  async others(selfId: string, staleMs: number): Promise<ServiceProcess[]> {
    const { rows } = await this.db.query<ServiceProcess>(
      `SELECT id, host, role, backend FROM service_processes
       WHERE id <> $1 AND seen_at > now() - $2::double precision * interval '1 millisecond' ORDER BY started_at`,
      [selfId, staleMs],
    );
    return rows;
  }

  /** Records this process, or renews its row; rows of processes gone for a day are dropped on the way. */
  async renew(self: ServiceProcess): Promise<void> {
    await this.db.query(
      `INSERT INTO service_processes (id, host, role, backend) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET seen_at = now()`,
      [self.id, self.host, self.role, self.backend],
    );
    await this.db.query(`DELETE FROM service_processes WHERE seen_at < now() - interval '1 day'`);
  }

  async remove(id: string): Promise<void> {
    await this.db.query('DELETE FROM service_processes WHERE id = $1', [id]);
  }
}
