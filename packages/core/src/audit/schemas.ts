import * as z from "zod/mini";
import { nameSchema, orgSlugSchema } from "../ids.ts";
import { lazySchema } from "../lazy-schema.ts";
import { MAX_AUDIT_SEQ } from "../data/keys.ts";
import { listQuery, timestamp } from "../schemas.ts";

const int = () => z.number().check(z.int());
const seqSchema = lazySchema(() => z.number().check(z.int(), z.minimum(1)));
const sha256Hex = lazySchema(() => z.string().check(z.regex(/^[0-9a-f]{64}$/)));
const auditActorSchema = lazySchema(() => z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("member"), sub: z.string(), org: z.string(), role: z.string() }),
  z.object({ kind: z.literal("platform"), sub: z.string(), role: z.string() }),
  z.object({ kind: z.literal("runtime"), sub: z.string(), org: z.string(), app: z.string() }),
  z.object({ kind: z.literal("system"), sub: z.string() }),
]));
const auditOutcomeSchema = lazySchema(() => z.object({
  result: z.enum(["started", "ok", "denied", "failed"]),
  status: z.optional(int()),
  problem: z.optional(z.string()),
  intentId: z.optional(z.string()),
  intentSeq: z.optional(int()),
}));
const draftFields = () => ({
  org: orgSlugSchema(),
  seq: seqSchema(),
  time: timestamp(),
  actor: auditActorSchema(),
  action: z.string(),
  target: z.record(z.string(), z.string()),
  outcome: auditOutcomeSchema(),
  requestId: z.string(),
  sourceIp: z.optional(z.string()),
});
/**
 * An entry of the log. Version 2: a leaf of the org's RFC 6962 tree, leaf hash = SHA-256(0x00 ||
 * RFC 8785 canonical JSON of the entry); `id` is the ULID of the record it was committed as.
 * Version 1 (legacy chain): hash = SHA-256 of the canonical JSON without `hash`, linked by prevHash.
 */
export const auditEntrySchema = lazySchema(() => z.union([
  z.object({ v: z.literal(2), id: z.string(), ...draftFields() }),
  z.object({ v: z.literal(1), ...draftFields(), prevHash: sha256Hex(), hash: sha256Hex() }),
]));

const auditAction = lazySchema(() => z.string().check(z.maxLength(64), z.regex(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/, "an action such as apps.create")));
export const auditListQuery = lazySchema(() => z.extend(listQuery(), {
  from: z.optional(z.iso.datetime({ offset: true })),
  to: z.optional(z.iso.datetime({ offset: true })),
  actor: z.optional(nameSchema()),
  action: z.optional(auditAction()),
  order: z._default(z.enum(["asc", "desc"]), "desc"),
}).check(z.refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), "from must not be after to")));
export const auditListSchema = lazySchema(() => z.object({
  items: z.array(auditEntrySchema()),
  cursor: z.optional(z.string()),
  /** Records committed but not sequenced yet (counted up to 1000): a writer waits for its own to appear. */
  pending: int(),
}));
export const auditExportQuery = lazySchema(() => z.strictObject({
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(5000)), 1000),
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
}));

/** signature (base64) over the RFC 8785 canonical JSON of the statement without `signature`. */
const signatureAlgorithm = lazySchema(() => z.enum(["Ed25519", "ECDSA_SHA_256"]));
const publicKeySchema = lazySchema(() => z.object({ keyId: z.string(), algorithm: signatureAlgorithm(), pem: z.string() }));
export const treeHeadSchema = lazySchema(() => z.object({
  v: z.literal(1),
  org: orgSlugSchema(),
  treeSize: int(),
  rootHash: sha256Hex(),
  time: timestamp(),
  keyId: z.string(),
  algorithm: signatureAlgorithm(),
  signature: z.string(),
}));
export const treeHeadListSchema = lazySchema(() => z.object({ items: z.array(treeHeadSchema()), cursor: z.optional(z.string()), publicKey: publicKeySchema() }));
export const checkpointSchema = lazySchema(() => z.object({
  v: z.literal(1),
  org: orgSlugSchema(),
  seq: seqSchema(),
  hash: sha256Hex(),
  time: timestamp(),
  keyId: z.string(),
  algorithm: signatureAlgorithm(),
  signature: z.string(),
}));
export const checkpointListSchema = lazySchema(() => z.object({ items: z.array(checkpointSchema()), cursor: z.optional(z.string()), publicKey: publicKeySchema() }));
export const auditVerifySchema = lazySchema(() => z.union([
  z.object({
    ok: z.literal(true),
    entries: int(),
    treeSize: int(),
    rootHash: sha256Hex(),
    headsChecked: int(),
    checkpointsChecked: int(),
    unverifiedAnchors: int(),
    pending: int(),
  }),
  z.object({ ok: z.literal(false), entries: int(), seq: int(), reason: z.string(), unverifiedAnchors: int(), pending: int() }),
]));

const positive = () => z.coerce.number().check(z.int(), z.minimum(1), z.maximum(MAX_AUDIT_SEQ));
export const inclusionQuery = lazySchema(() => z.strictObject({ seq: positive(), treeSize: z.optional(positive()) }));
export const consistencyQuery = lazySchema(() => z.strictObject({ from: positive(), to: z.optional(positive()) }));
const hashList = () => z.array(sha256Hex());
export const inclusionProofSchema = lazySchema(() => z.object({
  seq: int(), treeSize: int(), leafIndex: int(), entry: auditEntrySchema(), leafHash: sha256Hex(), auditPath: hashList(), rootHash: sha256Hex(),
  head: z.optional(treeHeadSchema()),
}));
export const consistencyProofSchema = lazySchema(() => z.object({
  from: int(), to: int(), proof: hashList(), fromRoot: sha256Hex(), toRoot: sha256Hex(),
  fromHead: z.optional(treeHeadSchema()), toHead: z.optional(treeHeadSchema()),
}));
