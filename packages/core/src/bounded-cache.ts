/** A Map that holds at most `maxEntries`: once full, setting a new key first drops the entry inserted longest ago. */
export class BoundedCache<K, V> extends Map<K, V> {
  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError("maxEntries must be a positive integer");
    super();
  }

  override set(key: K, value: V): this {
    if (this.size >= this.maxEntries && !this.has(key)) this.delete(this.keys().next().value!);
    return super.set(key, value);
  }
}
