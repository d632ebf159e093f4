import type { Migration } from '../migrations.js';

/**
 * What must follow a committed change (an operation's webhook events and drift report) is recorded in
 * the same transaction as the change, and carried out after by a relay that deletes the entry once
 * done: a process dying between the commit and its consequences loses nothing.
 */
export const outbox: Migration = {
  version: 8,
  name: 'outbox',
  statements: [
    `CREATE TABLE outbox (
      id uuid PRIMARY KEY,
      topic text NOT NULL CHECK (topic IN ('operation.finished')),
      -- What the entry is about (an operation id); one entry per topic and subject.
      subject text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      attempts integer NOT NULL DEFAULT 0,
      -- A relay claims an entry by pushing this forward; it is due again if the relay dies.
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      last_error text,
      UNIQUE (topic, subject)
    )`,
    `CREATE INDEX outbox_due ON outbox (next_attempt_at)`,
  ],
};
