import type { Migration } from '../migrations.js';

/**
 * The channel on which the database announces that an operation has new events or a new status.
 * The payload is the operation id. Sent by triggers, so a notification is part of the transaction
 * that made the change: it goes out only on commit, and no writer can forget it.
 */
export const OPERATION_CHANGES_CHANNEL = 'clusterd_operation_changes';

/** Triggers that NOTIFY {@link OPERATION_CHANGES_CHANNEL} when operation events are appended or an operation's status changes. */
export const operationNotifications: Migration = {
  version: 7,
  name: 'operation-notifications',
  statements: [
    // Statement level with a transition table: one batch of appended events is one notification
    // per operation, not one per row.
    `CREATE FUNCTION clusterd_notify_operation_events() RETURNS trigger LANGUAGE plpgsql AS $$
     DECLARE
       op uuid;
     BEGIN
       FOR op IN SELECT DISTINCT operation_id FROM appended LOOP
         PERFORM pg_notify('${OPERATION_CHANGES_CHANNEL}', op::text);
       END LOOP;
       RETURN NULL;
     END $$`,
    `CREATE TRIGGER operation_events_notify AFTER INSERT ON operation_events
     REFERENCING NEW TABLE AS appended FOR EACH STATEMENT EXECUTE FUNCTION clusterd_notify_operation_events()`,
    // Row level with a WHEN clause: transition tables cannot be combined with a column list, and
    // the WHEN test keeps the function from running for updates that leave the status alone
    // (cancel flags, attempts). PostgreSQL folds duplicate notifications within a transaction.
    `CREATE FUNCTION clusterd_notify_operation_status() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       PERFORM pg_notify('${OPERATION_CHANGES_CHANNEL}', NEW.id::text);
       RETURN NULL;
     END $$`,
    `CREATE TRIGGER operations_status_notify AFTER UPDATE OF status ON operations
     FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION clusterd_notify_operation_status()`,
  ],
};
