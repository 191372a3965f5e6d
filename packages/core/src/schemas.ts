import * as z from "zod/mini";
import { generatedIdSchema, nameSchema, orgSlugSchema } from "./ids.ts";

// zod/mini rather than classic zod: the same validation at a twentieth of the bundle size.

export const timestamp = z.iso.datetime();
export const text = (max: number) => z.string().check(z.trim(), z.minLength(1), z.maxLength(max));

/**
 * How an app is built: one shell command run in the build environment, from the source's root.
 * Not a place for secrets: it is stored and shown as written.
 */
export const buildSettingsSchema = z.strictObject({
  command: z.string().check(
    z.trim(), z.minLength(1), z.maxLength(4096),
    z.refine((command) => !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(command), "no control characters besides tab and newline"),
  ),
});

export const appSchema = z.object({
  id: generatedIdSchema,
  name: z.string(),
  description: z.optional(z.string()),
  build: z.optional(z.object({ command: z.string() })),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const createAppBody = z.strictObject({ name: text(100), description: z.optional(text(1000)), build: z.optional(buildSettingsSchema) });
export const updateAppBody = z.strictObject({
  name: z.optional(text(100)),
  description: z.optional(z.nullable(text(1000))),
  build: z.optional(z.nullable(buildSettingsSchema)),
}).check(z.refine((body) => Object.keys(body).length > 0, "at least one field is required"));
export const appParams = z.strictObject({ appId: generatedIdSchema });
export const listQuery = z.strictObject({
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100)), 20),
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
});
export const appListSchema = z.object({ items: z.array(appSchema), cursor: z.optional(z.string()) });

export const orgSchema = z.object({
  slug: orgSlugSchema,
  name: z.string(),
  status: z.enum(["active", "suspended"]),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export const createOrgBody = z.strictObject({ slug: orgSlugSchema, name: text(200) });
export const orgParams = z.strictObject({ slug: orgSlugSchema });

/** A credential value: non-empty, well-formed Unicode, at most 32 KiB once encoded as UTF-8. */
export const MAX_CREDENTIAL_BYTES = 32 * 1024;
const credentialValue = z.string().check(
  z.minLength(1),
  z.refine((value) => value.isWellFormed(), "must be well-formed Unicode"),
  z.refine((value) => Buffer.byteLength(value, "utf8") <= MAX_CREDENTIAL_BYTES, `at most ${MAX_CREDENTIAL_BYTES} bytes of UTF-8`),
);

export const putCredentialBody = z.strictObject({ value: credentialValue, description: z.optional(text(1000)) });
export const credentialParams = z.strictObject({ appId: generatedIdSchema, name: nameSchema });
export const userCredentialParams = z.strictObject({ appId: generatedIdSchema, sub: nameSchema, name: nameSchema });
export const runtimeCredentialParams = z.strictObject({ name: nameSchema });
export const runtimeUserCredentialParams = z.strictObject({ sub: nameSchema, name: nameSchema });

/** What humans and operators may see of a credential: that it exists, never its value. */
const credentialFields = {
  name: z.string(),
  scope: z.enum(["system", "user"]),
  sub: z.optional(z.string()),
  description: z.optional(z.string()),
  version: z.number().check(z.int(), z.minimum(1)),
  createdAt: timestamp,
  updatedAt: timestamp,
};
export const credentialSchema = z.object(credentialFields);
export const credentialListSchema = z.object({ items: z.array(credentialSchema), cursor: z.optional(z.string()) });
export const runtimeCredentialSchema = z.object({ ...credentialFields, value: z.string() });

const int = () => z.number().check(z.int());
const seqSchema = z.number().check(z.int(), z.minimum(1));
const sha256Hex = z.string().check(z.regex(/^[0-9a-f]{64}$/));
const auditActorSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("member"), sub: z.string(), org: z.string(), role: z.string() }),
  z.object({ kind: z.literal("platform"), sub: z.string(), role: z.string() }),
  z.object({ kind: z.literal("runtime"), sub: z.string(), org: z.string(), app: z.string() }),
  z.object({ kind: z.literal("system"), sub: z.string() }),
]);
/** hash = SHA-256 (hex) of the RFC 8785 canonical JSON of the entry without `hash`; seq 1 has prevHash = 64 zeros. */
export const auditEntrySchema = z.object({
  v: z.literal(1),
  org: orgSlugSchema,
  seq: seqSchema,
  time: timestamp,
  actor: auditActorSchema,
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
  prevHash: sha256Hex,
  hash: sha256Hex,
});

const auditAction = z.string().check(z.maxLength(64), z.regex(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/, "an action such as apps.create"));
export const auditListQuery = z.extend(listQuery, {
  from: z.optional(z.iso.datetime({ offset: true })),
  to: z.optional(z.iso.datetime({ offset: true })),
  actor: z.optional(nameSchema),
  action: z.optional(auditAction),
  order: z._default(z.enum(["asc", "desc"]), "desc"),
}).check(z.refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), "from must not be after to"));
export const auditListSchema = z.object({ items: z.array(auditEntrySchema), cursor: z.optional(z.string()) });
export const auditExportQuery = z.strictObject({
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(5000)), 1000),
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
});

/** signature (base64) over the RFC 8785 canonical JSON of the checkpoint without `signature`. */
const signatureAlgorithm = z.enum(["Ed25519", "ECDSA_SHA_256"]);
export const checkpointSchema = z.object({
  v: z.literal(1),
  org: orgSlugSchema,
  seq: seqSchema,
  hash: sha256Hex,
  time: timestamp,
  keyId: z.string(),
  algorithm: signatureAlgorithm,
  signature: z.string(),
});
export const checkpointListSchema = z.object({
  items: z.array(checkpointSchema),
  cursor: z.optional(z.string()),
  publicKey: z.object({ keyId: z.string(), algorithm: signatureAlgorithm, pem: z.string() }),
});
export const auditVerifySchema = z.union([
  z.object({
    ok: z.literal(true),
    entries: int(),
    head: z.nullable(z.object({ seq: int(), hash: sha256Hex })),
    checkpointsChecked: int(),
    unverifiedCheckpoints: int(),
    checkpoint: z.optional(checkpointSchema),
  }),
  z.object({ ok: z.literal(false), entries: int(), seq: int(), reason: z.string(), unverifiedCheckpoints: int() }),
]);

/** What a forced rotation reports: never key material, only which version is current now. */
export const rotationResultSchema = z.object({
  app: generatedIdSchema,
  outcome: z.enum(["rotated", "resumed"]),
  kekVersion: z.string(),
  kekRotatedAt: timestamp,
  rewrapped: z.number().check(z.int(), z.minimum(0)),
  retired: z.number().check(z.int(), z.minimum(0)),
});

export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number(),
  detail: z.optional(z.string()),
  requestId: z.string(),
});

