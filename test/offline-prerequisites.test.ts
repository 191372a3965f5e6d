import { describe, expect, it } from "vitest";
import { JavaMissing, assertJava, startDynamoLocal } from "../packages/local/src/dynamodb.ts";

describe("offline prerequisites", () => {
  it("names the missing Java instead of hanging", async () => {
    const path = process.env.PATH;
    process.env.PATH = "/nonexistent";
    try {
      expect(() => assertJava()).toThrow(JavaMissing);
      expect(() => assertJava()).toThrow(/Java 17/);
      await expect(startDynamoLocal({ timeoutMs: 2000 })).rejects.toThrow(JavaMissing);
    } finally {
      process.env.PATH = path;
    }
  });

  it("finds Java 17+ on this machine", () => {
    expect(() => assertJava()).not.toThrow();
  });
});
