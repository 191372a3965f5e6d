import { z } from "zod";
import { generatedIdSchema, orgSlugSchema } from "./ids.ts";

const timestamp = z.iso.datetime();
const text = (max: number) => z.string().trim().min(1).max(max);

/**
 * How an app is built: one shell command run in the build environment, from the source's root.
 * Not a place for secrets: it is stored and shown as written.
 */
export const buildSettingsSchema = z.strictObject({
  command: z.string().trim().min(1).max(4096)
    .refine((command) => !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(command), "no control characters besides tab and newline"),
}).meta({ id: "BuildSettings" });

export const appSchema = z.object({
  id: generatedIdSchema,
  name: z.string(),
  description: z.string().optional(),
  build: z.object({ command: z.string() }).optional(),
  createdAt: timestamp,
  updatedAt: timestamp,
}).meta({ id: "App" });

export const createAppBody = z.strictObject({ name: text(100), description: text(1000).optional(), build: buildSettingsSchema.optional() });
export const updateAppBody = z.strictObject({
  name: text(100).optional(),
  description: text(1000).nullable().optional(),
  build: buildSettingsSchema.nullable().optional(),
})
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

export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  requestId: z.string(),
}).meta({ id: "Problem" });

