import * as z from "zod/mini";
import { generatedIdSchema, nameSchema, orgSlugSchema } from "./ids.ts";

// zod/mini rather than classic zod: the same validation at a twentieth of the bundle size.

const timestamp = z.iso.datetime();
const text = (max: number) => z.string().check(z.trim(), z.minLength(1), z.maxLength(max));

export const appSchema = z.object({
  id: generatedIdSchema,
  name: z.string(),
  description: z.optional(z.string()),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const createAppBody = z.strictObject({ name: text(100), description: z.optional(text(1000)) });
export const updateAppBody = z.strictObject({ name: z.optional(text(100)), description: z.optional(z.nullable(text(1000))) })
  .check(z.refine((body) => Object.keys(body).length > 0, "at least one field is required"));
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

export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number(),
  detail: z.optional(z.string()),
  requestId: z.string(),
});
