/** One page of a list, in the list's own order. */
export interface Page<T> {
  items: T[];
  /** Opaque cursor of the next page; null when this page is the last. */
  nextCursor: string | null;
}
