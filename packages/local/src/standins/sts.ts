import { randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import * as z from "zod/mini";
import type { AssumeRoleRequest, PolicyDocument, RoleAssumerPort, TemporaryCredentials } from "@bulkhead/core/deployments/ports";
import { parseRoleArn } from "@bulkhead/core/targets/aws-names";

/**
 * Offline stand-in for STS AssumeRole. Each deploy role has a trust policy, the document a
 * customer pastes into its own account (for the platform's hosted role: what infra declares).
 * The stand-in keeps those documents in a file under the data dir, so `npm start` and the
 * `npm run trust` stand-in step share them, and evaluates every AssumeRole against the role's
 * trust policy the way STS would for the platform's deployer role: principal, action,
 * `sts:ExternalId`, the session tags. A role nobody recorded a trust for cannot be assumed, and
 * no ExternalId is accepted by default. It issues random fake credentials bound to a session it
 * remembers (role, tags, session policy, expiry); the stand-in target asks it to authorize every
 * call made with them.
 */
export class StandInAccessDenied extends Error {
  override readonly name = "AccessDenied";
  readonly $metadata = { httpStatusCode: 403 };
}

class StandInValidationError extends Error {
  override readonly name = "ValidationError";
  readonly $metadata = { httpStatusCode: 400 };
}

export type StandInSession = {
  roleArn: string;
  sessionName: string;
  tags: Record<string, string>;
  policy: PolicyDocument;
  expiresAt: number;
};

export type StsStandIn = RoleAssumerPort & {
  /** Records a role's trust policy, as the role's owner does in their account. */
  trustPolicy: (roleArn: string, policy: PolicyDocument) => void;
  /**
   * Records the trust the platform's hosted deploy role has (infra/workflows.ts): the caller's
   * account may assume it, only with this ExternalId and only with the workflow's session tags.
   */
  trust: (roleArn: string, externalId: string) => void;
  /** The session behind credentials, if they are valid now; undefined otherwise. */
  session: (credentials: Pick<TemporaryCredentials, "accessKeyId" | "secretAccessKey" | "sessionToken">) => StandInSession | undefined;
  /** Every credential ever issued (for tests that scan stored data for leaks). */
  issued: () => TemporaryCredentials[];
  /** Every AssumeRole request received, allowed or not, without its ExternalId. */
  calls: () => { roleArn: string; sessionName: string; allowed: boolean }[];
};

export type StsStandInOptions = {
  /** The platform's deployer role: the principal every offline AssumeRole comes from. */
  callerArn: string;
  /** The trust store (JSON) shared with `npm run trust`; in memory when absent. */
  trustFile?: string;
  now?: () => number;
};

/** Where a data dir keeps the stand-in's trust policies. */
export const trustFileOf = (dataDir: string): string => join(dataDir, "sts", "trust-policies.json");

const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const WORKFLOW_TAG_KEYS = ["org", "app", "deployment"];

const statementSchema = z.looseObject({
  Effect: z.enum(["Allow", "Deny"]),
  Principal: z.optional(z.unknown()),
  Action: z.union([z.string(), z.array(z.string())]),
  Condition: z.optional(z.record(z.string(), z.record(z.string(), z.union([z.string(), z.array(z.string())])))),
});
/** A trust policy as IAM would accept one for these purposes: version, statements with effect and action. */
export const trustPolicySchema = z.object({ Version: z.literal("2012-10-17"), Statement: z.array(statementSchema).check(z.minLength(1)) });
const trustStoreSchema = z.record(z.string(), z.object({ trustPolicy: trustPolicySchema, recordedAt: z.string() }));
type TrustStore = z.output<typeof trustStoreSchema>;

function readStore(file: string): TrustStore {
  if (!existsSync(file)) return {};
  return trustStoreSchema.parse(JSON.parse(readFileSync(file, "utf8")));
}

/**
 * Records `roleArn`'s trust policy in the trust store, replacing any earlier one: what the
 * customer does by pasting the policy into the role's trust relationships. Atomic (write, then
 * rename), so a running `npm start` never reads half a file.
 */
export function recordTrustPolicy(file: string, roleArn: string, policy: PolicyDocument, now = new Date()): void {
  if (!parseRoleArn(roleArn)) throw new TypeError(`not an IAM role ARN: ${roleArn}`);
  const trustPolicy = trustPolicySchema.parse(policy);
  const store = readStore(file);
  store[roleArn] = { trustPolicy, recordedAt: now.toISOString() };
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(store, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}

const sameSecret = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : value === undefined ? [] : [String(value)]);
const matches = (pattern: string, value: string): boolean =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "i").test(value);

/** The request context IAM evaluates a trust policy with. Multi-valued keys are arrays. */
type RequestContext = Record<string, string | string[] | undefined>;

/**
 * One condition operator over one key. Only the operators the platform's trust policies use are
 * known; any other operator makes the statement not apply (fail closed, never open). As in IAM,
 * `ForAllValues` holds when the key is absent: a policy must pair it with a single-valued check.
 */
function conditionHolds(operator: string, key: string, expected: string[], context: RequestContext): boolean {
  const actual = context[key];
  switch (operator) {
    case "StringEquals":
      return typeof actual === "string" && expected.some((value) => sameSecret(value, actual));
    case "StringLike":
      return typeof actual === "string" && expected.some((pattern) => matches(pattern, actual));
    case "ForAllValues:StringEquals":
      return actual === undefined || list(actual).every((value) => expected.includes(value));
    case "ForAnyValue:StringEquals":
      return actual !== undefined && list(actual).some((value) => expected.includes(value));
    case "Null":
      return expected.every((value) => (value === "true") === (actual === undefined));
    default:
      return false;
  }
}

/** A principal naming the caller: its role ARN, its account's root, or its account id. */
function principalNames(principal: unknown, callerArn: string): boolean {
  if (principal === "*") return true;
  const account = parseRoleArn(callerArn)?.accountId;
  const aws = list((principal as { AWS?: unknown } | undefined)?.AWS);
  return aws.some((p) => p === "*" || p === callerArn || (account !== undefined && (p === account || p === `arn:aws:iam::${account}:root`)));
}

function trustAllows(policy: PolicyDocument, action: string, callerArn: string, context: RequestContext): boolean {
  let allowed = false;
  for (const statement of policy.Statement) {
    if (!principalNames(statement.Principal, callerArn) || !list(statement.Action).some((p) => matches(p, action))) continue;
    const conditions = Object.entries((statement.Condition ?? {}) as Record<string, Record<string, unknown>>);
    const holds = conditions.every(([operator, byKey]) => Object.entries(byKey).every(([key, values]) => conditionHolds(operator, key, list(values), context)));
    if (!holds) continue;
    if (statement.Effect === "Deny") return false;
    if (statement.Effect === "Allow") allowed = true;
  }
  return allowed;
}

export function stsStandIn(options: StsStandInOptions): StsStandIn {
  const now = options.now ?? Date.now;
  const memory: TrustStore = {};
  const trusts = (): TrustStore => (options.trustFile ? readStore(options.trustFile) : memory);
  const record = (roleArn: string, policy: PolicyDocument) => {
    if (options.trustFile) recordTrustPolicy(options.trustFile, roleArn, policy, new Date(now()));
    else memory[roleArn] = { trustPolicy: trustPolicySchema.parse(policy), recordedAt: new Date(now()).toISOString() };
  };
  const sessions = new Map<string, { secretAccessKey: string; sessionToken: string; session: StandInSession }>();
  const issued: TemporaryCredentials[] = [];
  const calls: { roleArn: string; sessionName: string; allowed: boolean }[] = [];

  return {
    trustPolicy: record,
    trust(roleArn, externalId) {
      const account = parseRoleArn(roleArn)?.accountId;
      record(roleArn, {
        Version: "2012-10-17",
        Statement: [{
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${account}:root` },
          Action: ["sts:AssumeRole", "sts:TagSession"],
          Condition: { StringEquals: { "sts:ExternalId": externalId }, "ForAllValues:StringEquals": { "aws:TagKeys": WORKFLOW_TAG_KEYS } },
        }],
      });
    },
    async assumeRole(request: AssumeRoleRequest) {
      if (!SESSION_NAME.test(request.sessionName)) throw new StandInValidationError("RoleSessionName is not valid");
      if (request.durationSeconds < 900 || request.durationSeconds > 3600) throw new StandInValidationError("DurationSeconds must be 900–3600");
      if (request.policy.length > 2048) throw new StandInValidationError("Policy exceeds 2048 characters");
      const trust = trusts()[request.roleArn]?.trustPolicy as PolicyDocument | undefined;
      const tags = Object.fromEntries(request.tags.map((t) => [t.key, t.value]));
      const context: RequestContext = {
        "sts:ExternalId": request.externalId,
        "aws:PrincipalArn": options.callerArn,
        ...(request.tags.length > 0 && { "aws:TagKeys": Object.keys(tags) }),
        ...Object.fromEntries(Object.entries(tags).map(([key, value]) => [`aws:RequestTag/${key}`, value])),
      };
      const allowed = trust !== undefined
        && trustAllows(trust, "sts:AssumeRole", options.callerArn, context)
        && (request.tags.length === 0 || trustAllows(trust, "sts:TagSession", options.callerArn, context));
      calls.push({ roleArn: request.roleArn, sessionName: request.sessionName, allowed });
      // STS does not say which condition failed; neither does the stand-in.
      if (!allowed) throw new StandInAccessDenied(`User: ${options.callerArn} is not authorized to perform: sts:AssumeRole on resource: ${request.roleArn}`);
      const credentials: TemporaryCredentials = {
        accessKeyId: `ASIA${randomBytes(10).toString("hex").toUpperCase().slice(0, 16)}`,
        secretAccessKey: randomBytes(30).toString("base64"),
        sessionToken: `standin-${randomBytes(48).toString("base64url")}`,
        expiration: new Date(now() + request.durationSeconds * 1000),
      };
      sessions.set(credentials.accessKeyId, {
        secretAccessKey: credentials.secretAccessKey,
        sessionToken: credentials.sessionToken,
        session: {
          roleArn: request.roleArn,
          sessionName: request.sessionName,
          tags,
          policy: JSON.parse(request.policy) as PolicyDocument,
          expiresAt: credentials.expiration.getTime(),
        },
      });
      issued.push(credentials);
      return credentials;
    },
    session(credentials) {
      const entry = sessions.get(credentials.accessKeyId);
      if (!entry || !sameSecret(entry.secretAccessKey, credentials.secretAccessKey) || !sameSecret(entry.sessionToken, credentials.sessionToken)) return undefined;
      return entry.session.expiresAt > now() ? entry.session : undefined;
    },
    issued: () => [...issued],
    calls: () => [...calls],
  };
}
