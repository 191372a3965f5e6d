import * as z from "zod/mini";
import { generatedIdSchema } from "../ids.ts";
import { lazySchema } from "../lazy-schema.ts";
import { sourceRefSchema } from "../sources/schemas.ts";
import { DEPLOYMENT_ID } from "./ids.ts";
import { DEPLOYMENT_STATUSES } from "./status.ts";

/** The deployment routes' schemas, kept apart from the shared schemas.ts. */
const timestamp = lazySchema(() => z.iso.datetime());

export const deploymentIdSchema = lazySchema(() => z.string().check(z.regex(DEPLOYMENT_ID, "a ULID (26 Crockford base32 characters)")));
/** `hosted` (the platform's own account) or the id of a target the org registered. */
export const targetIdSchema = lazySchema(() => z.string().check(z.regex(/^(?:hosted|[a-z2-7]{26})$/, "\"hosted\" or a target id")));

export const createDeploymentBody = lazySchema(() => z.strictObject({
  source: z.strictObject({ ref: sourceRefSchema() }),
  target: z.optional(targetIdSchema()),
}));
/** Headers are not strict: every request carries many; only these are read. */
export const idempotencyHeaders = lazySchema(() => z.object({
  "idempotency-key": z.optional(z.string().check(z.regex(/^[\x21-\x7e]{1,255}$/, "1–255 visible ASCII characters"))),
}));
export const deploymentParams = lazySchema(() => z.strictObject({ appId: generatedIdSchema(), deploymentId: deploymentIdSchema() }));

export const deploymentSchema = lazySchema(() => z.object({
  id: deploymentIdSchema(),
  appId: generatedIdSchema(),
  status: z.enum(DEPLOYMENT_STATUSES),
  source: z.object({ ref: z.string() }),
  target: z.object({ id: z.string(), kind: z.enum(["hosted", "byoi"]) }),
  createdBy: z.string(),
  createdAt: timestamp(),
  updatedAt: timestamp(),
  timestamps: z.object({
    queuedAt: timestamp(),
    buildStartedAt: z.optional(timestamp()),
    buildFinishedAt: z.optional(timestamp()),
    deployStartedAt: z.optional(timestamp()),
    finishedAt: z.optional(timestamp()),
  }),
  failureReason: z.optional(z.string()),
  artifact: z.optional(z.object({ location: z.string(), sha256: z.string() })),
  buildLog: z.optional(z.object({ excerpt: z.string(), truncated: z.boolean() })),
  release: z.optional(z.object({ id: z.string(), appliedAt: timestamp() })),
}));
export const deploymentListSchema = lazySchema(() => z.object({ items: z.array(deploymentSchema()), cursor: z.optional(z.string()) }));
