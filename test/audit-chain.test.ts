import { generateKeyPairSync, sign } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson, GENESIS_HASH, hashEntry, outcomeOfStatus, sealLegacyEntry as sealEntry, type AuditDraft, type LegacyAuditEntry as AuditEntry } from "../packages/core/src/audit/entry.ts";
import { checkpointSignatureValid, signedPayload as checkpointPayload, type Checkpoint } from "../packages/core/src/audit/tree-heads.ts";
import { mth } from "./support/rfc6962-reference.ts";
import { LogVerifier } from "../packages/core/src/audit/verify.ts";

/** The legacy chain format (version 1) and its verifier, without any store: what the offline verifier runs on a legacy export. */

function verifyChain(entries: Iterable<unknown>, options: { org?: string; checkpoints?: readonly Checkpoint[] } = {}) {
  const verifier = new LogVerifier(options.org, { checkpoints: options.checkpoints });
  for (const entry of entries) if (!verifier.push(entry)) break;
  return Promise.resolve(verifier.finish());
}

const draft = (i: number): AuditDraft => ({
  actor: { kind: "member", sub: `user-${i % 3}`, org: "acme", role: "admin" },
  action: ["apps.create", "apps.update", "apps.delete"][i % 3]!,
  target: { appId: `app${i}` },
  outcome: outcomeOfStatus(i % 4 === 0 ? 403 : 200),
  requestId: `req-${i}`,
  sourceIp: "192.0.2.1",
});

function chainOf(length: number, org = "acme"): AuditEntry[] {
  const entries: AuditEntry[] = [];
  for (let i = 0; i < length; i++) {
    const head = entries.at(-1);
    entries.push(sealEntry(org, head && { seq: head.seq, hash: head.hash }, draft(i), new Date(Date.UTC(2025, 0, 1, 0, 0, i))));
  }
  return entries;
}

const ed25519 = generateKeyPairSync("ed25519");
function checkpointAt(entries: AuditEntry[], seq: number, privateKey = ed25519.privateKey): Checkpoint {
  const unsigned = { v: 1 as const, org: "acme", seq, hash: entries[seq - 1]!.hash, time: "2025-01-02T00:00:00.000Z", keyId: "k1", algorithm: "Ed25519" as const };
  return { ...unsigned, signature: sign(null, checkpointPayload(unsigned), privateKey).toString("base64") };
}

const clone = <T>(value: T): T => structuredClone(value);

describe("canonical JSON (RFC 8785)", () => {
  it("matches the RFC's own example", () => {
    const input = JSON.parse('{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}');
    expect(canonicalJson(input)).toBe('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
  });

  it("sorts keys by UTF-16 code units, at every depth", () => {
    const input = { "\u20ac": 1, "\r": 2, "\ufb33": 3, "1": 4, "\ud83d\ude00": 5, "\u0080": 6, "\u00f6": 7, nested: { b: 1, a: 2 } };
    expect(canonicalJson(input)).toBe('{"\\r":2,"1":4,"nested":{"a":2,"b":1},"\u0080":6,"ö":7,"€":1,"😀":5,"דּ":3}');
  });

  it("does not depend on key insertion order", () => {
    fc.assert(fc.property(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer())), (object) => {
      const reversed = Object.fromEntries(Object.entries(object).reverse());
      expect(canonicalJson(reversed)).toBe(canonicalJson(object));
    }));
  });
});

describe("the chain format", () => {
  it("starts at the documented genesis hash and links every entry to the previous one", () => {
    const entries = chainOf(4);
    expect(GENESIS_HASH).toBe("0".repeat(64));
    expect(entries[0]).toMatchObject({ seq: 1, prevHash: GENESIS_HASH, org: "acme", v: 1 });
    for (let i = 1; i < entries.length; i++) expect(entries[i]!.prevHash).toBe(entries[i - 1]!.hash);
  });

  it("hashes SHA-256 over the canonical JSON of everything but the hash", async () => {
    const [entry] = chainOf(1);
    const { hash, ...rest } = entry!;
    const { createHash } = await import("node:crypto");
    expect(hash).toBe(createHash("sha256").update(canonicalJson(rest)).digest("hex"));
    expect(hashEntry(JSON.parse(JSON.stringify(entry)))).toBe(hash);
  });

  it("reads outcomes from statuses: ok, denied for 401/403, failed otherwise", () => {
    expect(outcomeOfStatus(201)).toEqual({ result: "ok", status: 201 });
    expect(outcomeOfStatus(403, "forbidden")).toEqual({ result: "denied", status: 403, problem: "forbidden" });
    expect(outcomeOfStatus(401, "unauthenticated").result).toBe("denied");
    expect(outcomeOfStatus(404, "not-found")).toEqual({ result: "failed", status: 404, problem: "not-found" });
    expect(outcomeOfStatus(500, "internal").result).toBe("failed");
  });
});

describe("verifying a chain", () => {
  it("accepts an intact chain and reports its head", async () => {
    const entries = chainOf(10);
    // The legacy entries are the tree's leaves, as RFC 6962 defines it (the reference implementation).
    const rootHash = mth(entries.map((entry) => new TextEncoder().encode(canonicalJson(entry))));
    expect(await verifyChain(entries)).toEqual({ ok: true, entries: 10, treeSize: 10, rootHash, headsChecked: 0, checkpointsChecked: 0 });
    expect(await verifyChain([])).toEqual({ ok: true, entries: 0, treeSize: 0, rootHash: mth([]), headsChecked: 0, checkpointsChecked: 0 });
  });

  const length = fc.integer({ min: 3, max: 25 });
  const edits: [string, (entry: any) => void][] = [
    ["its action", (e) => (e.action = "apps.get")],
    ["its actor", (e) => (e.actor.sub = "someone-else")],
    ["its outcome", (e) => (e.outcome = { result: e.outcome.result === "ok" ? "denied" : "ok", status: e.outcome.status })],
    ["its target", (e) => (e.target.appId = "another")],
    ["its time", (e) => (e.time = "2030-01-01T00:00:00.000Z")],
    ["a field added", (e) => (e.note = "x")],
    ["a field removed", (e) => delete e.sourceIp],
    ["its own hash", (e) => (e.hash = "f".repeat(64))],
    ["its prevHash", (e) => (e.prevHash = "e".repeat(64))],
  ];

  it.each(edits)("finds the exact seq of an entry with %s changed", async (_what, edit) => {
    await fc.assert(fc.asyncProperty(length.chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 1, max: n }))), async ([n, k]) => {
      const entries = clone(chainOf(n));
      edit(entries[k - 1]);
      expect(await verifyChain(entries)).toMatchObject({ ok: false, seq: k, entries: k - 1 });
    }), { numRuns: 25 });
  });

  it("finds a deleted entry", async () => {
    await fc.assert(fc.asyncProperty(length.chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 1, max: n - 1 }))), async ([n, k]) => {
      const entries = chainOf(n).filter((e) => e.seq !== k);
      expect(await verifyChain(entries)).toMatchObject({ ok: false, seq: k, reason: expect.stringContaining("missing") });
    }), { numRuns: 30 });
  });

  it("finds two swapped entries at the first of them", async () => {
    await fc.assert(fc.asyncProperty(length.chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 1, max: n - 1 }))), async ([n, k]) => {
      const entries = chainOf(n);
      [entries[k - 1], entries[k]] = [entries[k]!, entries[k - 1]!];
      expect(await verifyChain(entries)).toMatchObject({ ok: false, seq: k });
      // Swapping the contents but keeping the seq numbers in place is found at the same seq.
      const relabelled = chainOf(n).map(clone);
      [relabelled[k - 1], relabelled[k]] = [{ ...relabelled[k]!, seq: k }, { ...relabelled[k - 1]!, seq: k + 1 }];
      expect(await verifyChain(relabelled)).toMatchObject({ ok: false, seq: k });
    }), { numRuns: 30 });
  });

  it("cannot see a truncated tail on its own, but a signed checkpoint does", async () => {
    await fc.assert(fc.asyncProperty(length.chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 1, max: n }), fc.integer({ min: 0, max: n - 1 }))), async ([n, c, t]) => {
      const entries = chainOf(n);
      const kept = entries.slice(0, t);
      expect((await verifyChain(kept)).ok).toBe(true);
      const result = await verifyChain(kept, { checkpoints: [checkpointAt(entries, c)] });
      if (t >= c) expect(result.ok).toBe(true);
      else expect(result).toMatchObject({ ok: false, seq: t + 1, reason: expect.stringContaining("truncated") });
    }), { numRuns: 40 });
  });

  it("catches a suffix rewritten with recomputed hashes at the checkpoint it contradicts", async () => {
    const entries = chainOf(12);
    const forged = entries.slice(0, 4);
    for (let i = 4; i < 12; i++) {
      const head = forged.at(-1)!;
      forged.push(sealEntry("acme", { seq: head.seq, hash: head.hash }, { ...draft(i), action: "apps.get" }, new Date()));
    }
    expect((await verifyChain(forged)).ok).toBe(true);
    expect(await verifyChain(forged, { checkpoints: [checkpointAt(entries, 9)] })).toMatchObject({ ok: false, seq: 9, reason: expect.stringContaining("checkpoint") });
  });

  it("refuses another org's entries and a chain that does not start at genesis", async () => {
    const entries = chainOf(3);
    expect(await verifyChain(entries, { org: "globex" })).toMatchObject({ ok: false, seq: 1 });
    const spliced = [...entries, ...chainOf(5, "globex").slice(3)];
    expect(await verifyChain(spliced)).toMatchObject({ ok: false, seq: 4 });
    const rebased = sealEntry("acme", { seq: 0, hash: "a".repeat(64) }, draft(0), new Date());
    expect(await verifyChain([rebased])).toMatchObject({ ok: false, seq: 1, reason: expect.stringContaining("genesis") });
  });

  it("reports a malformed entry at the seq it should have had", async () => {
    const entries: unknown[] = chainOf(3);
    entries[1] = { not: "an entry" };
    expect(await verifyChain(entries)).toMatchObject({ ok: false, seq: 2, reason: expect.stringContaining("malformed") });
  });
});

describe("checkpoint signatures", () => {
  const entries = chainOf(3);

  it("verifies Ed25519 checkpoints with the signer's public key only", () => {
    const checkpoint = checkpointAt(entries, 3);
    expect(checkpointSignatureValid(checkpoint, ed25519.publicKey)).toBe(true);
    expect(checkpointSignatureValid(checkpoint, generateKeyPairSync("ed25519").publicKey)).toBe(false);
    expect(checkpointSignatureValid({ ...checkpoint, seq: 2 }, ed25519.publicKey)).toBe(false);
    expect(checkpointSignatureValid({ ...checkpoint, hash: entries[1]!.hash }, ed25519.publicKey)).toBe(false);
  });

  it("verifies ECDSA P-256 (DER) checkpoints, as KMS signs them", () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const unsigned = { ...checkpointAt(entries, 3), algorithm: "ECDSA_SHA_256" as const, signature: undefined };
    const checkpoint = { ...unsigned, signature: sign("sha256", checkpointPayload(unsigned as never), { key: ec.privateKey, dsaEncoding: "der" }).toString("base64") } as Checkpoint;
    expect(checkpointSignatureValid(checkpoint, ec.publicKey)).toBe(true);
    expect(checkpointSignatureValid(checkpoint, ed25519.publicKey)).toBe(false);
    expect(checkpointSignatureValid({ ...checkpoint, algorithm: "Ed25519" }, ec.publicKey)).toBe(false);
    expect(checkpointSignatureValid({ ...checkpoint, algorithm: "none" as never }, ec.publicKey)).toBe(false);
  });
});
