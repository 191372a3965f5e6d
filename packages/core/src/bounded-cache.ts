/**
 * A Map that holds at most `maxEntries`: once full, each set first drops the entry inserted
 * longest ago. That happens even when the key set is already held, so a full cache may shrink
 * by one; a cache only saves work, and this keeps every set O(1) with no bookkeeping.
 */
export class BoundedCache<K, V> extends Map<K, V> {
  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError("maxEntries must be a positive integer");
    super();
  }

  override set(key: K, value: V): this {
    if (this.size >= this.maxEntries) this.delete(this.keys().next().value!);
    return super.set(key, value);
  }
}
