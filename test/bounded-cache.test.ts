import { describe, expect, it } from "vitest";
import { BoundedCache } from "../packages/core/src/bounded-cache.ts";

describe("BoundedCache", () => {
  it("keeps at most maxEntries, dropping the oldest insertion first", () => {
    const cache = new BoundedCache<string, number>(3);
    for (const [key, value] of [["a", 1], ["b", 2], ["c", 3]] as const) cache.set(key, value);
    expect(cache.size).toBe(3);
    cache.set("d", 4);
    expect(cache.size).toBe(3);
    expect(cache.has("a")).toBe(false);
    expect([...cache.entries()]).toEqual([["b", 2], ["c", 3], ["d", 4]]);
  });

  it("orders by insertion, not by use: a read does not keep an entry", () => {
    const cache = new BoundedCache<string, number>(2);
    cache.set("a", 1).set("b", 2);
    expect(cache.get("a")).toBe(1);
    cache.set("c", 3);
    expect(cache.get("a")).toBeUndefined();
    expect(cache.get("b")).toBe(2);
  });

  it("makes room again once an entry is deleted", () => {
    const cache = new BoundedCache<string, number>(2);
    cache.set("a", 1).set("b", 2);
    cache.delete("a");
    cache.set("c", 3);
    expect([...cache.keys()]).toEqual(["b", "c"]);
  });

  it("replaces a key it holds in place, dropping nothing", () => {
    const cache = new BoundedCache<string, number>(2);
    cache.set("a", 1).set("b", 2).set("b", 3);
    expect([...cache.entries()]).toEqual([["a", 1], ["b", 3]]);
  });

  it("refuses a bound that is not a positive integer", () => {
    expect(() => new BoundedCache(0)).toThrow(RangeError);
    expect(() => new BoundedCache(1.5)).toThrow(RangeError);
  });
});
