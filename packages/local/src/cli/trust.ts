import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";
import { parseRoleArn } from "@bulkhead/core/targets/aws-names";
import { customerDeployTrust } from "@bulkhead/core/iam/customer-deploy-trust";
import { recordTrustPolicy, trustFileOf, trustPolicySchema } from "../standins/sts.ts";
import { OFFLINE_DEPLOYER_ROLE_ARN } from "../runtime.ts";

/**
 * Stand-in step: what a customer does in its own AWS account after registering a BYOI target.
 * `POST /v1/targets` answers with the deploy role's ARN and the trust policy to paste into that
 * role; this records that trust policy with the offline STS stand-in (in the data dir, shared with
 * a running `npm start`), so the deploy workflow can assume the role offline. Without this step
 * (or with another target's ExternalId) AssumeRole is refused, as it would be in AWS.
 *
 *   npm run trust -- --target-response target.json        # the saved POST /v1/targets response ("-": stdin)
 *   npm run trust -- --role-arn ARN --external-id ID --org ORG
 */
// zod/mini ships without messages: refusals name each issue in English.
z.config(en());

const usage = `usage: npm run trust -- --target-response <file.json|-> | --role-arn <arn> --external-id <id> --org <org>
  Stand-in step: records a BYOI deploy role's trust policy with the offline STS stand-in, as the
  customer would by pasting it into the role in their AWS account. Data dir: $BULKHEAD_DATA_DIR or .bulkhead`;

const targetResponse = z.object({
  id: z.string(),
  kind: z.literal("byoi", "a BYOI target (hosted targets are the platform's own role: nothing to paste)"),
  deployRoleArn: z.string().check(z.refine((arn) => parseRoleArn(arn) !== undefined, "an IAM role ARN")),
  trustPolicy: trustPolicySchema,
});

function fail(message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    "target-response": { type: "string" },
    "role-arn": { type: "string" },
    "external-id": { type: "string" },
    org: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}

let roleArn: string;
let trustPolicy;
let label: string;
if (values["target-response"] !== undefined) {
  if (values["role-arn"] || values["external-id"] || values.org) fail("give either --target-response or --role-arn/--external-id/--org");
  const source = values["target-response"];
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(source === "-" ? 0 : resolve(source), "utf8"));
  } catch (error) {
    fail(`cannot read a JSON target response from ${source}: ${(error as Error).message}`);
  }
  const parsed = targetResponse.safeParse(json);
  if (!parsed.success) fail(`not a BYOI target as POST /v1/targets returns it: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
  ({ deployRoleArn: roleArn, trustPolicy } = parsed.data);
  label = `target ${parsed.data.id}`;
} else {
  const { "role-arn": arn, "external-id": externalId, org } = values;
  if (!arn || !externalId || !org) fail("--role-arn, --external-id and --org go together");
  if (!parseRoleArn(arn)) fail(`not an IAM role ARN: ${arn}`);
  roleArn = arn;
  trustPolicy = customerDeployTrust({ deployerRoleArn: OFFLINE_DEPLOYER_ROLE_ARN, externalId, org });
  label = `org ${org}`;
}

const dataDir = process.env.BULKHEAD_DATA_DIR ?? ".bulkhead";
recordTrustPolicy(trustFileOf(dataDir), roleArn, trustPolicy);
// The ExternalId is not printed: it is in the trust policy the customer keeps.
console.log(`stand-in step: recorded the trust policy of ${roleArn} (${label}) with the offline STS stand-in in ${dataDir}.
The platform's deployer role (${OFFLINE_DEPLOYER_ROLE_ARN}) may now assume it, with that target's ExternalId only.`);
