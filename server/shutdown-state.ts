import { setMaxListeners } from 'node:events';

/**
 * The API's shutdown as its answers see it. `begin()` at the first signal turns readiness off at
 * once, so that load balancers stop sending; `endStreams()` at the end of the HTTP grace tells
 * every open event stream to end.
 */
export class ShutdownState {
  #draining = false;
  readonly #streams = new AbortController();

  constructor() {
    // One listener per open event stream, thousands of them by design.
    setMaxListeners(0, this.#streams.signal);
  }

  /** True from the first shutdown signal on: `/readyz` answers 503 `draining`. */
  get draining(): boolean {
    return this.#draining;
  }

  /** Aborted when open event streams must end. */
  get streamsEnd(): AbortSignal {
    return this.#streams.signal;
  }

  begin(): void {
    this.#draining = true;
  }

  endStreams(): void {
    this.#draining = true;
    this.#streams.abort();
  }
}
