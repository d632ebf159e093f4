/**
 * Ports: what the services need from outside them, implemented by adapters (`queue/`, the blueprint
 * registry). Here, beside `errors.ts`, rather than in one service's folder: services of several folders
 * (lifecycle, drift) and the queue share them, and none owns them.
 */
import type { Blueprint } from './blueprints/blueprint.js';
import type { OperationRecord } from './domain/operation.js';

/** Where accepted operations go to be run. */
export interface OperationDispatcher {
  dispatch(operation: OperationRecord): Promise<void>;
}

export interface BlueprintLookup {
  get(name: string): Blueprint<any> | undefined;
  list(): Blueprint<any>[];
}
