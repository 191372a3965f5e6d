import { createHash } from "node:crypto";
import canonicalize from "canonicalize";

/**
 * The audit entry format, version 1. Pure: the API, the offline verifier and a customer's own
 * tooling compute the same hashes from this module alone.
 *
 * hash = lower-case hex SHA-256 of the UTF-8 bytes of canonicalJson(entry without `hash`),
 * where canonicalJson is RFC 8785 (JSON Canonicalization Scheme: keys sorted by UTF-16 code
 * units, no whitespace, ECMAScript number and string forms). `prevHash` is inside what is
 * hashed, so each entry commits to the whole chain before it. The first entry of every org's
 * chain (seq 1) has prevHash = GENESIS_HASH; the org is part of each entry, so a chain cannot
 * be passed off as another org's.
 */
export const AUDIT_FORMAT_VERSION = 1;
export const GENESIS_HASH = "0".repeat(64);

export type AuditActor =
  | { kind: "member"; sub: string; org: string; role: string }
  | { kind: "platform"; sub: string; role: string }
  | { kind: "runtime"; sub: string; org: string; app: string }
  /** Scheduled jobs and workflows acting on the platform's own authority. */
  | { kind: "system"; sub: string };

/** `started` marks the intent entry an audited step writes before it acts (see auditedStep). */
export type AuditResult = "started" | "ok" | "denied" | "failed";

export type AuditOutcome = {
  result: AuditResult;
  /** The HTTP status, for entries of requests. */
  status?: number;
  /** A stable problem slug or error class name: never a message, a body or a value. */
  problem?: string;
  /** On the outcome of an audited step: the seq of its `started` entry. */
  intentSeq?: number;
};

/** Ids and names only (app id, credential name, org slug…), never values. */
export type AuditTarget = Record<string, string>;

/** What a writer supplies; the chain adds org, seq, time and the hashes. */
export type AuditDraft = {
  actor: AuditActor;
  action: string;
  target: AuditTarget;
  outcome: AuditOutcome;
  requestId: string;
  sourceIp?: string;
};

export type AuditEntry = AuditDraft & {
  v: typeof AUDIT_FORMAT_VERSION;
  org: string;
  seq: number;
  time: string;
  prevHash: string;
  hash: string;
};

export type ChainHead = { seq: number; hash: string };

/** RFC 8785 canonical JSON: the one encoding that is hashed or signed anywhere in the audit. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError("value has no JSON representation");
  return text;
}

const sha256Hex = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");

/** The hash an entry should carry: over every field it has except `hash` itself. */
export function hashEntry(entry: Omit<AuditEntry, "hash"> | Record<string, unknown>): string {
  const { hash: _ignored, ...hashed } = entry as Record<string, unknown>;
  return sha256Hex(canonicalJson(hashed));
}

/** Builds the entry that follows `head` (or starts the chain when there is no head). */
export function sealEntry(org: string, head: ChainHead | undefined, draft: AuditDraft, time: Date): AuditEntry {
  const unsealed = {
    v: AUDIT_FORMAT_VERSION,
    org,
    seq: (head?.seq ?? 0) + 1,
    time: time.toISOString(),
    prevHash: head?.hash ?? GENESIS_HASH,
    ...withoutUndefined(draft),
  } as Omit<AuditEntry, "hash">;
  return { ...unsealed, hash: hashEntry(unsealed) };
}

/** Stored, exported and hashed forms must agree, so absent fields are absent, never `undefined`. */
function withoutUndefined<T extends object>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** How an HTTP status reads in the chain. */
export function outcomeOfStatus(status: number, problem?: string): AuditOutcome {
  const result: AuditResult = status < 400 ? "ok" : status === 401 || status === 403 ? "denied" : "failed";
  return problem && status >= 400 ? { result, status, problem } : { result, status };
}
