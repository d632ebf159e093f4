/** Event types subscribers can receive (webhooks). */
export const EVENT_TYPES = [
  'operation.succeeded',
  'operation.failed',
  'operation.cancelled',
  'drift.detected',
  'drift.remediated',
  'cluster.expiring',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Something that happened to a team's cluster. `data` never carries secrets, spec values or outputs. */
export interface ServiceEvent {
  type: EventType;
  team: string;
  cluster: string | null;
  data: Record<string, unknown>;
}

/** Tells subscribers. Never throws into the caller's work: delivery problems are the publisher's to record. */
export interface EventPublisher {
  publish(event: ServiceEvent): Promise<void>;
}
