import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import { leafHash } from "./merkle/rfc6962.ts";

/**
 * The audit entry formats. Pure: the API, the offline verifier and a customer's own tooling
 * compute the same hashes from this module and merkle/ alone.
 *
 * Version 2 (current): a writer commits an unsequenced record (org, id, time, what happened) in
 * the transaction of the change it records; the sequencer gives it the next `seq`. The entry is
 * a leaf of the org's RFC 6962 Merkle tree: leaf hash = SHA-256(0x00 || canonicalJson(entry)),
 * where canonicalJson is RFC 8785 (JSON Canonicalization Scheme: keys sorted by UTF-16 code
 * units, no whitespace, ECMAScript number and string forms). Leaf seq s is leaf index s - 1.
 *
 * Version 1 (legacy): entries of the hash chain that came before, each carrying
 * hash = SHA-256(canonicalJson(entry without `hash`)) and the previous entry's hash as
 * `prevHash` (GENESIS_HASH at seq 1). They stay as they were and are leaves of the same tree,
 * in the same order, so both the old chain and the tree over it verify.
 */
export const AUDIT_FORMAT_VERSION = 2;
export const LEGACY_CHAIN_VERSION = 1;
export const GENESIS_HASH = "0".repeat(64);

export type AuditActor =
  | { kind: "member"; sub: string; org: string; role: string }
  | { kind: "platform"; sub: string; role: string }
  | { kind: "runtime"; sub: string; org: string; app: string }
  /** Scheduled jobs and workflows acting on the platform's own authority. */
  | { kind: "system"; sub: string }
  /** An appliance enrolling with a single-use token of `org`, named by the token's hash label (never the token). */
  | { kind: "enrollment"; sub: string; org: string };

/** `started` marks the intent entry an audited step writes before it acts (see auditedStep). */
export type AuditResult = "started" | "ok" | "denied" | "failed";

export type AuditOutcome = {
  result: AuditResult;
  /** The HTTP status, for entries of requests. */
  status?: number;
  /** A stable problem slug or error class name: never a message, a body or a value. */
  problem?: string;
  /** On the outcome of an audited step: the id of its `started` record. */
  intentId?: string;
  /** The same, in legacy (version 1) entries: the seq of the `started` entry. */
  intentSeq?: number;
};

/** Ids and names only (app id, credential name, org slug…), never values. */
export type AuditTarget = Record<string, string>;

/** What a writer supplies; the record adds org, id and time, the sequencer its seq. */
export type AuditDraft = {
  actor: AuditActor;
  action: string;
  target: AuditTarget;
  outcome: AuditOutcome;
  requestId: string;
  sourceIp?: string;
};

/** What a writer commits with its change: no seq, no hash, nothing shared with other writers. */
export type AuditRecord = AuditDraft & {
  v: typeof AUDIT_FORMAT_VERSION;
  org: string;
  /** A ULID, unique per record: the record's key, and what a later record refers to it by. */
  id: string;
  /** When the writer committed it. */
  time: string;
};

/** A sequenced entry of the current format. */
export type AuditEntry = AuditRecord & { seq: number };

/** An entry of the legacy hash chain (version 1). */
export type LegacyAuditEntry = AuditDraft & {
  v: typeof LEGACY_CHAIN_VERSION;
  org: string;
  seq: number;
  time: string;
  prevHash: string;
  hash: string;
};

/** Any entry of an org's log, as stored and exported. */
export type LogEntry = AuditEntry | LegacyAuditEntry;

export type ChainHead = { seq: number; hash: string };

/** RFC 8785 canonical JSON: the one encoding that is hashed or signed anywhere in the audit. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError("value has no JSON representation");
  return text;
}

const sha256Hex = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");

/** The entry's leaf hash in the org's tree (either format): SHA-256(0x00 || canonicalJson(entry)). */
export const leafOf = (entry: LogEntry): string => leafHash(canonicalJson(entry));

/** The hash a legacy entry should carry: over every field it has except `hash` itself. */
export function hashEntry(entry: Omit<LegacyAuditEntry, "hash"> | Record<string, unknown>): string {
  const { hash: _ignored, ...hashed } = entry as Record<string, unknown>;
  return sha256Hex(canonicalJson(hashed));
}

/** The legacy entry that followed `head` in a version 1 chain (kept to verify and migrate such chains). */
export function sealLegacyEntry(org: string, head: ChainHead | undefined, draft: AuditDraft, time: Date): LegacyAuditEntry {
  const unsealed = {
    v: LEGACY_CHAIN_VERSION,
    org,
    seq: (head?.seq ?? 0) + 1,
    time: time.toISOString(),
    prevHash: head?.hash ?? GENESIS_HASH,
    ...withoutUndefined(draft),
  } as Omit<LegacyAuditEntry, "hash">;
  return { ...unsealed, hash: hashEntry(unsealed) };
}

/** The record a writer commits for `draft`. */
export function auditRecord(org: string, id: string, draft: AuditDraft, time: Date): AuditRecord {
  return { v: AUDIT_FORMAT_VERSION, org, id, time: time.toISOString(), ...withoutUndefined(draft) };
}

/** Stored, exported and hashed forms must agree, so absent fields are absent, never `undefined`. */
function withoutUndefined<T extends object>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** How an HTTP status reads in the log. */
export function outcomeOfStatus(status: number, problem?: string): AuditOutcome {
  const result: AuditResult = status < 400 ? "ok" : status === 401 || status === 403 ? "denied" : "failed";
  return problem && status >= 400 ? { result, status, problem } : { result, status };
}
