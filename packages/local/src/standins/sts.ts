import { randomBytes, timingSafeEqual } from "node:crypto";
import type { AssumeRoleRequest, PolicyDocument, RoleAssumerPort, TemporaryCredentials } from "@bulkhead/core/deployments/ports";

/**
 * Offline stand-in for STS AssumeRole. It holds each deploy role's trust (the ExternalId its trust
 * policy requires), checks requests the way STS and a confused-deputy-proof trust policy would,
 * and issues random fake credentials bound to a session it remembers: role, tags, session policy
 * and expiry. The stand-in target asks it to authorize every call made with those credentials.
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
  /** Registers a role's trust: AssumeRole succeeds only with this ExternalId. */
  trust: (roleArn: string, externalId: string) => void;
  /** The session behind credentials, if they are valid now; undefined otherwise. */
  session: (credentials: Pick<TemporaryCredentials, "accessKeyId" | "secretAccessKey" | "sessionToken">) => StandInSession | undefined;
  /** Every credential ever issued (for tests that scan stored data for leaks). */
  issued: () => TemporaryCredentials[];
};

const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

const sameSecret = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export function stsStandIn(now: () => number = Date.now): StsStandIn {
  const trusts = new Map<string, string>();
  const sessions = new Map<string, { secretAccessKey: string; sessionToken: string; session: StandInSession }>();
  const issued: TemporaryCredentials[] = [];

  return {
    trust(roleArn, externalId) {
      trusts.set(roleArn, externalId);
    },
    async assumeRole(request: AssumeRoleRequest) {
      if (!SESSION_NAME.test(request.sessionName)) throw new StandInValidationError("RoleSessionName is not valid");
      if (request.durationSeconds < 900 || request.durationSeconds > 3600) throw new StandInValidationError("DurationSeconds must be 900–3600");
      if (request.policy.length > 2048) throw new StandInValidationError("Policy exceeds 2048 characters");
      const expected = trusts.get(request.roleArn);
      if (expected === undefined || !sameSecret(expected, request.externalId)) {
        // STS does not say which condition failed; neither does the stand-in.
        throw new StandInAccessDenied(`User is not authorized to perform: sts:AssumeRole on resource: ${request.roleArn}`);
      }
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
          tags: Object.fromEntries(request.tags.map((t) => [t.key, t.value])),
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
  };
}
