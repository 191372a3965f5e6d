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

