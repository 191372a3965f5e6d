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

/** A credential value: non-empty, well-formed Unicode, at most 32 KiB once encoded as UTF-8. */
export const MAX_CREDENTIAL_BYTES = 32 * 1024;
const credentialValue = z.string().min(1)
  .refine((value) => value.isWellFormed(), "must be well-formed Unicode")
  .refine((value) => Buffer.byteLength(value, "utf8") <= MAX_CREDENTIAL_BYTES, `at most ${MAX_CREDENTIAL_BYTES} bytes of UTF-8`)
  .meta({ description: `Secret value; at most ${MAX_CREDENTIAL_BYTES} bytes of UTF-8. Write-only except on runtime routes.` });

export const putCredentialBody = z.strictObject({ value: credentialValue, description: text(1000).optional() });
export const credentialParams = z.strictObject({ appId: generatedIdSchema, name: nameSchema });
export const userCredentialParams = z.strictObject({ appId: generatedIdSchema, sub: nameSchema, name: nameSchema });
export const runtimeCredentialParams = z.strictObject({ name: nameSchema });
export const runtimeUserCredentialParams = z.strictObject({ sub: nameSchema, name: nameSchema });

/** What humans and operators may see of a credential: that it exists, never its value. */
export const credentialSchema = z.object({
  name: z.string(),
  scope: z.enum(["system", "user"]),
  sub: z.string().optional(),
  description: z.string().optional(),
  version: z.number().int().min(1),
  createdAt: timestamp,
  updatedAt: timestamp,
}).meta({ id: "Credential" });
export const credentialListSchema = z.object({ items: z.array(credentialSchema), cursor: z.string().optional() });
export const runtimeCredentialSchema = credentialSchema.extend({ value: z.string() }).meta({ id: "RuntimeCredential" });

/** What a forced rotation reports: never key material, only which version is current now. */
export const rotationResultSchema = z.object({
  app: generatedIdSchema,
  outcome: z.enum(["rotated", "resumed"]),
  kekVersion: z.string(),
  kekRotatedAt: timestamp,
  rewrapped: z.number().int().min(0),
  retired: z.number().int().min(0),
}).meta({ id: "KekRotation" });

export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  requestId: z.string(),
}).meta({ id: "Problem" });
