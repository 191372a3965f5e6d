import type { AppNames } from "../iam/names.ts";
import type { Artifact, TargetRef } from "./records.ts";

/**
 * The deployment workflows reach every outside system through these ports: contracts only.
 * select-ports.ts picks the adapters (the cloud ones in ./cloud/* by default).
 */

/** The execution input: ids only. Everything else is read from the records inside the tasks. */
export type ExecutionInput = { org: string; appId: string; deploymentId: string };

export interface ExecutionPort {
  /**
   * Starts the deployment's execution, named by the deployment id. As in Step Functions, starting a
   * running name again with the same input returns that execution instead of a second one.
   */
  start(name: string, input: ExecutionInput): Promise<{ executionArn: string }>;
  /** Stops the named execution. One that already ended or never started is not an error. */
  stop(name: string, reason: { error: string; cause: string }): Promise<void>;
}

export type PolicyDocument = { Version: "2012-10-17"; Statement: readonly Record<string, unknown>[] };

export type BuildRoleRequest = {
  names: AppNames;
  path: string;
  trustPolicy: PolicyDocument;
  policy: PolicyDocument;
  permissionsBoundary?: string;
};

export interface BuildRolePort {
  /** Creates the app's build role if missing and (re)applies its policy; `created` when it is new. */
  ensure(request: BuildRoleRequest): Promise<{ arn: string; created: boolean }>;
}

export interface BuildEnvironmentPort {
  /** Tears down whatever still runs or remains of this deployment's build. Idempotent. */
  destroy(ref: { projectName: string; deploymentId: string }): Promise<{ destroyed: number }>;
}

export interface BuildLogPort {
  /** The last `maxBytes` of the build's log, or undefined when there is none (the build never started). */
  tail(ref: { logGroup: string; streamPrefix: string }, maxBytes: number): Promise<{ text: string; truncated: boolean } | undefined>;
}

/** Short-lived credentials. They stay inside the task that obtained them: never returned, logged or stored. */
export type TemporaryCredentials = {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
};

export type AssumeRoleRequest = {
  roleArn: string;
  /** A target's ExternalId; none for the platform's own artifact reader. */
  externalId?: string;
  sessionName: string;
  durationSeconds: number;
  tags: { key: string; value: string }[];
  /** The session policy for the phase, as JSON. */
  policy: string;
};

export interface RoleAssumerPort {
  assumeRole(request: AssumeRoleRequest): Promise<TemporaryCredentials>;
}

/** A target with everything needed to reach it. Holds the ExternalId: never leaves the task. */
export type ResolvedTarget = TargetRef & { roleArn: string; externalId: string; region: string; accountId: string };

export type ArtifactReadRequest = {
  bucket: string;
  key: string;
  /** The platform's account: the bucket must be its own. */
  accountId: string;
  region: string;
  /** The artifact reader's session for this deployment. */
  credentials: TemporaryCredentials;
  /** Larger objects are not downloaded. */
  maxBytes: number;
};

export interface ArtifactReaderPort {
  /** The object's size, and its bytes unless it is larger than `maxBytes`. */
  read(request: ArtifactReadRequest): Promise<{ size: number; bytes?: Uint8Array }>;
}

export type ReleaseRequest = {
  target: ResolvedTarget;
  names: AppNames;
  deploymentId: string;
  artifact: Artifact;
  /** The artifact's bytes, read by the platform and checked against its SHA-256: uploaded as they are. */
  code: Uint8Array;
  credentials: TemporaryCredentials;
};

export interface TargetDeployerPort {
  /** Applies the code as the app's live release in the target, with the assumed credentials only. */
  apply(request: ReleaseRequest): Promise<{ releaseId: string }>;
}

export type GrantCheck = {
  org: string;
  appId: string;
  deploymentId: string;
  target: TargetRef;
  phase: "deploy";
  /** `check-target`: the CheckTarget step; then again inside ApplyRelease, before AssumeRole and right before applying. */
  moment: "check-target" | "before-assume-role" | "before-apply";
  /** The grant an earlier check found: the check passes only if this same grant is still active. */
  grantId?: string;
};

export interface GrantPort {
  /**
   * Resolves when the vendor may act on the target in this phase now, with the grant that allows
   * it (none for targets that need no grant); throws a grantDenied TaskError otherwise.
   */
  check(request: GrantCheck): Promise<{ grantId?: string }>;
}

export type DeploymentPorts = {
  executions: ExecutionPort;
  buildRoles: BuildRolePort;
  buildEnvironments: BuildEnvironmentPort;
  buildLogs: BuildLogPort;
  roles: RoleAssumerPort;
  artifacts: ArtifactReaderPort;
  targets: TargetDeployerPort;
  grants: GrantPort;
};
