import * as z from "zod/mini";
import { DEPLOY_ROLE_NAME_RULE, isCustomerDeployRole } from "../iam/deploy-role-name.ts";
import { generatedIdSchema } from "../ids.ts";
import { lazySchema } from "../lazy-schema.ts";
import { text, timestamp } from "../schemas.ts";
import { ACCOUNT_ID, parseRoleArn, partitionOfRegion, REGION } from "./aws-names.ts";

const name = lazySchema(() => text(100));
const accountId = lazySchema(() => z.string().check(z.regex(ACCOUNT_ID, "a 12-digit AWS account id")));
const region = lazySchema(() => z.string().check(z.regex(REGION, "an AWS region such as eu-west-1")));
const deployRoleArn = lazySchema(() => z.string().check(
  z.maxLength(2048),
  z.refine((arn) => parseRoleArn(arn) !== undefined, "an IAM role ARN: arn:aws:iam::<account>:role/<name>"),
  z.refine((arn) => {
    const role = parseRoleArn(arn);
    return role === undefined || isCustomerDeployRole(role);
  }, DEPLOY_ROLE_NAME_RULE),
));

export const createTargetBody = lazySchema(() => z.discriminatedUnion("kind", [
  z.strictObject({ name: name(), kind: z.literal("hosted") }),
  z.strictObject({ name: name(), kind: z.literal("byoi"), accountId: accountId(), deployRoleArn: deployRoleArn(), region: region() }).check(
    z.refine((body) => parseRoleArn(body.deployRoleArn)?.accountId === body.accountId, {
      message: "the deploy role must belong to accountId",
      path: ["deployRoleArn"],
    }),
    z.refine((body) => parseRoleArn(body.deployRoleArn)?.partition === partitionOfRegion(body.region), {
      message: "the deploy role's partition does not serve this region",
      path: ["region"],
    }),
  ),
]));

export const targetParams = lazySchema(() => z.strictObject({ targetId: generatedIdSchema() }));

export const targetSchema = lazySchema(() => z.object({
  id: generatedIdSchema(),
  name: z.string(),
  kind: z.enum(["hosted", "byoi"]),
  accountId: z.optional(z.string()),
  deployRoleArn: z.optional(z.string()),
  region: z.optional(z.string()),
  createdAt: timestamp(),
}));

export const createdTargetSchema = lazySchema(() => z.extend(targetSchema(), {
  externalId: z.optional(z.string().check(z.minLength(32))),
  /** For BYOI targets: what the customer's role must be named, and why. */
  deployRoleNaming: z.optional(z.string()),
  trustPolicy: z.optional(z.object({ Version: z.literal("2012-10-17"), Statement: z.array(z.record(z.string(), z.unknown())) })),
}));

export const targetListSchema = lazySchema(() => z.object({ items: z.array(targetSchema()), cursor: z.optional(z.string()) }));
