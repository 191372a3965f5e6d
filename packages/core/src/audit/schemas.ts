import * as z from "zod/mini";
import { nameSchema, orgSlugSchema } from "../ids.ts";
import { lazySchema } from "../lazy-schema.ts";
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
/** hash = SHA-256 (hex) of the RFC 8785 canonical JSON of the entry without `hash`; seq 1 has prevHash = 64 zeros. */
export const auditEntrySchema = lazySchema(() => z.object({
  v: z.literal(1),
  org: orgSlugSchema(),
  seq: seqSchema(),
  time: timestamp(),
  actor: auditActorSchema(),
  action: z.string(),
  target: z.record(z.string(), z.string()),
  outcome: z.object({
    result: z.enum(["started", "ok", "denied", "failed"]),
    status: z.optional(int()),
    problem: z.optional(z.string()),
    intentSeq: z.optional(int()),
  }),
  requestId: z.string(),
  sourceIp: z.optional(z.string()),
  prevHash: sha256Hex(),
  hash: sha256Hex(),
}));

const auditAction = lazySchema(() => z.string().check(z.maxLength(64), z.regex(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/, "an action such as apps.create")));
export const auditListQuery = lazySchema(() => z.extend(listQuery(), {
  from: z.optional(z.iso.datetime({ offset: true })),
  to: z.optional(z.iso.datetime({ offset: true })),
  actor: z.optional(nameSchema()),
  action: z.optional(auditAction()),
  order: z._default(z.enum(["asc", "desc"]), "desc"),
}).check(z.refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), "from must not be after to")));
export const auditListSchema = lazySchema(() => z.object({ items: z.array(auditEntrySchema()), cursor: z.optional(z.string()) }));
export const auditExportQuery = lazySchema(() => z.strictObject({
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(5000)), 1000),
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
}));

/** signature (base64) over the RFC 8785 canonical JSON of the checkpoint without `signature`. */
const signatureAlgorithm = lazySchema(() => z.enum(["Ed25519", "ECDSA_SHA_256"]));
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
export const checkpointListSchema = lazySchema(() => z.object({
  items: z.array(checkpointSchema()),
  cursor: z.optional(z.string()),
  publicKey: z.object({ keyId: z.string(), algorithm: signatureAlgorithm(), pem: z.string() }),
}));
export const auditVerifySchema = lazySchema(() => z.union([
  z.object({
    ok: z.literal(true),
    entries: int(),
    head: z.nullable(z.object({ seq: int(), hash: sha256Hex() })),
    checkpointsChecked: int(),
    unverifiedCheckpoints: int(),
    checkpoint: z.optional(checkpointSchema()),
  }),
  z.object({ ok: z.literal(false), entries: int(), seq: int(), reason: z.string(), unverifiedCheckpoints: int() }),
]));
