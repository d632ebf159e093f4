export type IdempotencyClaim =
  | { state: 'claimed' }
  | { state: 'replay'; statusCode: number; body: unknown; headers: Record<string, string> }
  | { state: 'in-flight' }
  | { state: 'mismatch' };

/** The answers kept for `Idempotency-Key`s, per principal and key. Every method is atomic. */
export interface IdempotencyStore {
  /**
   * Claims (principal, key) for a request with this fingerprint; an in-flight claim older than staleMs may be taken over.
   * A key last changed more than `ttlMs` ago (by the database clock) is free, whatever it held, as if retention had removed it already.
   * @param ttlMs null or absent: a key is kept forever
   */
  claimIdempotencyKey(
    principalId: string,
    key: string,
    fingerprint: string,
    staleMs: number,
    ttlMs?: number | null,
  ): Promise<IdempotencyClaim>;
  completeIdempotencyKey(
    principalId: string,
    key: string,
    response: { statusCode: number; body: unknown; headers: Record<string, string> },
  ): Promise<void>;
  /** Forgets a claim whose request failed, so that a retry runs again. */
  releaseIdempotencyKey(principalId: string, key: string): Promise<void>;
}
