import * as z from "zod/mini";
import { generatedIdSchema } from "../ids.ts";
import { lazySchema } from "../lazy-schema.ts";
import { text, timestamp } from "../schemas.ts";
import { parseAppliancePublicKey } from "./public-key.ts";
import { MAX_ENROLLMENT_TTL_SECONDS } from "./token.ts";

export const createEnrollmentBody = lazySchema(() => z.strictObject({
  targetId: z.optional(generatedIdSchema()),
  ttlSeconds: z._default(z.int().check(z.minimum(60), z.maximum(MAX_ENROLLMENT_TTL_SECONDS)), 3600),
}));

export const enrollmentSchema = lazySchema(() => z.object({
  token: z.string(),
  expiresAt: timestamp(),
  targetId: z.optional(generatedIdSchema()),
}));

export const enrollBody = lazySchema(() => z.strictObject({
  name: text(100),
  publicKey: z.optional(z.string().check(
    z.maxLength(8192),
    z.refine((pem) => parseAppliancePublicKey(pem) !== undefined, "a PEM SPKI public key: Ed25519, ECDSA P-256/P-384, or RSA ≥ 2048 bits"),
  )),
}));

export const applianceSchema = lazySchema(() => z.object({
  id: generatedIdSchema(),
  name: z.string(),
  targetId: z.optional(generatedIdSchema()),
  publicKeyFingerprint: z.optional(z.string()),
  enrolledAt: timestamp(),
}));
