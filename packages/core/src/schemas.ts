import * as z from "zod/mini";
import { generatedIdSchema, nameSchema, orgSlugSchema } from "./ids.ts";
import { lazySchema } from "./lazy-schema.ts";
import { LIMIT_BOUNDS, LIMIT_NAMES, type LimitName } from "./limits/settings.ts";

// zod/mini rather than classic zod: the same validation at a twentieth of the bundle size.
// Each schema is a factory (lazy-schema.ts): a function builds only the ones its route uses.

export const timestamp = lazySchema(() => z.iso.datetime());
export const text = (max: number) => z.string().check(z.trim(), z.minLength(1), z.maxLength(max));

/**
 * How an app is built: one shell command run in the build environment, from the source's root.
 * Not a place for secrets: it is stored and shown as written.
 */
export const buildSettingsSchema = lazySchema(() => z.strictObject({
  command: z.string().check(
    z.trim(), z.minLength(1), z.maxLength(4096),
    z.refine((command) => !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(command), "no control characters besides tab and newline"),
  ),
}));

/** An app's build settings, as buildSettingsSchema admits them. Absent: the default build (deployments/build-spec.ts). */
export type BuildSettings = { command: string };

export const appSchema = lazySchema(() => z.object({
  id: generatedIdSchema(),
  name: z.string(),
  description: z.optional(z.string()),
  build: z.optional(z.object({ command: z.string() })),
  createdAt: timestamp(),
  updatedAt: timestamp(),
  /** The current key-encryption key's version and when it became current (creation or the last rotation); never key material. */
  kek: z.object({ version: z.optional(z.string()), rotatedAt: timestamp() }),
}));

export const createAppBody = lazySchema(() => z.strictObject({ name: text(100), description: z.optional(text(1000)), build: z.optional(buildSettingsSchema()) }));
export const updateAppBody = lazySchema(() => z.strictObject({
  name: z.optional(text(100)),
  description: z.optional(z.nullable(text(1000))),
  build: z.optional(z.nullable(buildSettingsSchema())),
}).check(z.refine((body) => Object.keys(body).length > 0, "at least one field is required")));
export const appParams = lazySchema(() => z.strictObject({ appId: generatedIdSchema() }));
export const listQuery = lazySchema(() => z.strictObject({
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100)), 20),
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
}));
export const appListSchema = lazySchema(() => z.object({ items: z.array(appSchema()), cursor: z.optional(z.string()) }));

const limitValue = (name: LimitName) => z.int().check(z.minimum(LIMIT_BOUNDS[name].min), z.maximum(LIMIT_BOUNDS[name].max));
/** Every limit that holds for the org (its own where a platform admin set one, the default elsewhere). */
const limitsSchema = lazySchema(() => z.object(Object.fromEntries(LIMIT_NAMES.map((name) => [name, limitValue(name)])) as Record<LimitName, z.ZodMiniInt>));
const orgFields = () => ({
  slug: orgSlugSchema(),
  name: z.string(),
  status: z.enum(["active", "suspended"]),
  createdAt: timestamp(),
  updatedAt: timestamp(),
  limits: limitsSchema(),
});
export const orgSchema = lazySchema(() => z.object(orgFields()));
/** The org host's own view: its limits with what it uses of them now. */
export const orgWithUsageSchema = lazySchema(() => z.object({
  ...orgFields(),
  usage: z.object({
    apps: z.int(),
    runningDeployments: z.int(),
  }),
}));
export const createOrgBody = lazySchema(() => z.strictObject({ slug: orgSlugSchema(), name: text(200) }));
/** A platform admin's change: a limit set to null returns to the default. Integers within LIMIT_BOUNDS only. */
export const updateOrgBody = lazySchema(() => z.strictObject({
  name: z.optional(text(200)),
  limits: z.optional(z.strictObject(
    Object.fromEntries(LIMIT_NAMES.map((name) => [name, z.optional(z.nullable(limitValue(name)))])) as Record<LimitName, z.ZodMiniOptional<z.ZodMiniNullable<z.ZodMiniInt>>>,
  ).check(z.refine((limits) => Object.keys(limits).length > 0, "at least one limit is required"))),
}).check(z.refine((body) => Object.keys(body).length > 0, "at least one field is required")));
export const orgParams = lazySchema(() => z.strictObject({ slug: orgSlugSchema() }));

/** What a forced rotation reports: never key material, only which version is current now. */
export const rotationResultSchema = lazySchema(() => z.object({
  app: generatedIdSchema(),
  outcome: z.enum(["rotated", "resumed"]),
  kekVersion: z.string(),
  kekRotatedAt: timestamp(),
  rewrapped: z.number().check(z.int(), z.minimum(0)),
  retired: z.number().check(z.int(), z.minimum(0)),
}));

export const problemSchema = lazySchema(() => z.object({
  type: z.string(),
  title: z.string(),
  status: z.number(),
  detail: z.optional(z.string()),
  requestId: z.string(),
}));
