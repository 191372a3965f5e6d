import { z } from "zod";
import { generatedIdSchema, nameSchema, orgSlugSchema } from "./ids.ts";

const timestamp = z.iso.datetime();
const text = (max: number) => z.string().trim().min(1).max(max);

export const appSchema = z.object({
  id: generatedIdSchema,
  name: z.string(),
  description: z.string().optional(),
  createdAt: timestamp,
  updatedAt: timestamp,
}).meta({ id: "App" });

export const createAppBody = z.strictObject({ name: text(100), description: text(1000).optional() });
export const updateAppBody = z.strictObject({ name: text(100).optional(), description: text(1000).nullable().optional() })
  .refine((body) => Object.keys(body).length > 0, "at least one field is required");
export const appParams = z.strictObject({ appId: generatedIdSchema });
export const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(2048).optional(),
});
export const appListSchema = z.object({ items: z.array(appSchema), cursor: z.string().optional() });

export const orgSchema = z.object({
  slug: orgSlugSchema,
  name: z.string(),
  status: z.enum(["active", "suspended"]),
  createdAt: timestamp,
  updatedAt: timestamp,
}).meta({ id: "Org" });
export const createOrgBody = z.strictObject({ slug: orgSlugSchema, name: text(200) });
export const orgParams = z.strictObject({ slug: orgSlugSchema });

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
const auditActorSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("member"), sub: z.string(), org: z.string(), role: z.string() }),
  z.object({ kind: z.literal("platform"), sub: z.string(), role: z.string() }),
  z.object({ kind: z.literal("runtime"), sub: z.string(), org: z.string(), app: z.string() }),
  z.object({ kind: z.literal("system"), sub: z.string() }),
]);
export const auditEntrySchema = z.object({
  v: z.literal(1),
  org: orgSlugSchema,
  seq: z.number().int().min(1),
  time: timestamp,
  actor: auditActorSchema,
  action: z.string(),
  target: z.record(z.string(), z.string()),
  outcome: z.object({
    result: z.enum(["started", "ok", "denied", "failed"]),
    status: z.number().int().optional(),
    problem: z.string().optional(),
    intentSeq: z.number().int().optional(),
  }),
  requestId: z.string(),
  sourceIp: z.string().optional(),
  prevHash: sha256Hex,
  hash: sha256Hex,
}).meta({ id: "AuditEntry", description: "hash = SHA-256 (hex) of the RFC 8785 canonical JSON of the entry without `hash`; seq 1 has prevHash = 64 zeros." });

const auditAction = z.string().max(64).regex(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/, "an action such as apps.create");
export const auditListQuery = listQuery.extend({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  actor: nameSchema.optional(),
  action: auditAction.optional(),
  order: z.enum(["asc", "desc"]).default("desc"),
}).refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), "from must not be after to");
export const auditListSchema = z.object({ items: z.array(auditEntrySchema), cursor: z.string().optional() });
export const auditExportQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(5000).default(1000),
  cursor: z.string().min(1).max(2048).optional(),
});

export const checkpointSchema = z.object({
  v: z.literal(1),
  org: orgSlugSchema,
  seq: z.number().int().min(1),
  hash: sha256Hex,
  time: timestamp,
  keyId: z.string(),
  algorithm: z.enum(["Ed25519", "ECDSA_SHA_256"]),
  signature: z.string(),
}).meta({ id: "AuditCheckpoint", description: "signature (base64) over the RFC 8785 canonical JSON of the checkpoint without `signature`." });
export const checkpointListSchema = z.object({
  items: z.array(checkpointSchema),
  cursor: z.string().optional(),
  publicKey: z.object({ keyId: z.string(), algorithm: z.enum(["Ed25519", "ECDSA_SHA_256"]), pem: z.string() }),
});
export const auditVerifySchema = z.union([
  z.object({
    ok: z.literal(true),
    entries: z.number().int(),
    head: z.object({ seq: z.number().int(), hash: sha256Hex }).nullable(),
    checkpointsChecked: z.number().int(),
    unverifiedCheckpoints: z.number().int(),
    checkpoint: checkpointSchema.optional(),
  }),
  z.object({ ok: z.literal(false), entries: z.number().int(), seq: z.number().int(), reason: z.string(), unverifiedCheckpoints: z.number().int() }),
]);

export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  requestId: z.string(),
}).meta({ id: "Problem" });
