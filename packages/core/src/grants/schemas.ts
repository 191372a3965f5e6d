import * as z from "zod/mini";
import { generatedIdSchema } from "../ids.ts";
import { lazySchema } from "../lazy-schema.ts";
import { text, timestamp } from "../schemas.ts";
import { ELEVATED_PHASES, GRANT_PHASES, MAX_GRANT_SECONDS, MIN_GRANT_SECONDS, OBSERVE_GRANT_ID } from "./phases.ts";
import { GRANT_STATES } from "./state.ts";

const maxima = ELEVATED_PHASES.map((phase) => `${phase} ${MAX_GRANT_SECONDS[phase]}`).join(", ");

export const requestGrantBody = lazySchema(() => z.strictObject({
  phase: z.enum(ELEVATED_PHASES, "one of Install, Deploy, Operate (Observe is standing access, never requested)"),
  targetId: generatedIdSchema(),
  reason: text(500),
  durationSeconds: z.int().check(z.minimum(MIN_GRANT_SECONDS)),
}).check(z.refine((body) => body.durationSeconds <= MAX_GRANT_SECONDS[body.phase], {
  message: `durationSeconds is at most: ${maxima}`,
  path: ["durationSeconds"],
})));

export const grantParams = lazySchema(() => z.strictObject({ grantId: z.union([generatedIdSchema(), z.literal(OBSERVE_GRANT_ID)]) }));

export const grantSchema = lazySchema(() => z.object({
  id: z.union([generatedIdSchema(), z.literal(OBSERVE_GRANT_ID)]),
  phase: z.enum(GRANT_PHASES),
  state: z.enum(GRANT_STATES),
  targetId: z.optional(generatedIdSchema()),
  reason: z.optional(z.string()),
  durationSeconds: z.optional(z.number()),
  requestedBy: z.optional(z.string()),
  requestedAt: z.optional(timestamp()),
  requestExpiresAt: z.optional(timestamp()),
  approvedBy: z.optional(z.string()),
  approvedAt: z.optional(timestamp()),
  notBefore: z.optional(timestamp()),
  notAfter: z.optional(timestamp()),
  deniedBy: z.optional(z.string()),
  deniedAt: z.optional(timestamp()),
  revokedBy: z.optional(z.string()),
  revokedAt: z.optional(timestamp()),
}));

export const grantListSchema = lazySchema(() => z.object({
  items: z.array(grantSchema()),
  cursor: z.optional(z.string()),
}));
