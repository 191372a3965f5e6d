import { Resource } from "sst/resource";

/**
 * Linked resources, read through SST's `Resource` so one handler body runs deployed, under
 * `sst dev`, and offline (which supplies the same `SST_RESOURCE_<Name>` variables).
 *
 * Each link has its own accessor, read on first use: a function is linked only to what its code
 * can reach (test/infra-contract.test.ts derives that from each handler's bundle), and reading a
 * link the function lacks throws.
 */
export type Config = {
  tableName: string;
  baseDomain: string;
  auth: { issuer: string; audience: string; jwksUri: string };
  cursorKey: string;
  /** The role tenant data is read through (layer 4); absent offline, where there is no IAM. */
  tenantDataRoleArn?: string;
  /** The platform role that assumes BYOI deploy roles: the principal of their trust policies. */
  deployerRoleArn: string;
};

type Linked = {
  Table: { name: string };
  Platform: { baseDomain: string };
  Auth: { issuer: string; audience: string; jwksUri: string };
  CursorKey: { value: string };
  TenantData: { roleArn: string };
  Deployer: { roleArn: string };
};

export const tableName = (): string => (Resource as unknown as Linked).Table.name;

export const baseDomain = (): string => (Resource as unknown as Linked).Platform.baseDomain.toLowerCase();

export function authConfig(): Config["auth"] {
  const { issuer, audience, jwksUri } = (Resource as unknown as Linked).Auth;
  return { issuer, audience, jwksUri };
}

export const cursorKey = (): string => (Resource as unknown as Linked).CursorKey.value;

/** The role org-scoped functions assume per org (layer 4); NO_TENANT_ROLE offline. */
export const tenantDataRoleArn = (): string => (Resource as unknown as Linked).TenantData.roleArn;

/** The platform role that assumes BYOI deploy roles; read only where targets are created. */
export const deployerRoleArn = (): string => (Resource as unknown as Linked).Deployer.roleArn;

/** Offline there is no role to assume: DynamoDB Local ignores credentials. */
export const NO_TENANT_ROLE = "none";

/** The `SST_RESOURCE_*` variables for a config: what the offline runtime and tests export. */
export function linkEnvironment(c: Config): Record<string, string> {
  const link = (type: string, value: object) => JSON.stringify({ type, ...value });
  return {
    SST_RESOURCE_App: JSON.stringify({ name: "bulkhead", stage: "local" }),
    SST_RESOURCE_Table: link("sst.aws.Dynamo", { name: c.tableName }),
    SST_RESOURCE_Platform: link("sst.sst.Linkable", { baseDomain: c.baseDomain }),
    SST_RESOURCE_Auth: link("sst.sst.Linkable", c.auth),
    SST_RESOURCE_CursorKey: link("sst.sst.Secret", { value: c.cursorKey }),
    SST_RESOURCE_TenantData: link("sst.sst.Linkable", { roleArn: c.tenantDataRoleArn ?? NO_TENANT_ROLE }),
    SST_RESOURCE_Deployer: link("sst.sst.Linkable", { roleArn: c.deployerRoleArn }),
  };
}

/** Which credential-store adapter runs: Secrets Manager in the cloud, the stand-in offline. */
export type KeyStoreSettings =
  | { kind: "secrets-manager"; recoveryWindowDays: number; kmsKeyId?: string }
  | { kind: "offline-stand-in"; directory: string };

/**
 * The `KeyStore` link, read on its own: only the functions that touch
 * credentials link it (and get Secrets Manager permissions), so the others never read it.
 */
export function keyStoreSettings(): KeyStoreSettings {
  const linked = (Resource as unknown as { KeyStore: Record<string, unknown> }).KeyStore;
  if (linked.kind === "offline-stand-in" && typeof linked.directory === "string") {
    return { kind: "offline-stand-in", directory: linked.directory };
  }
  if (linked.kind === "secrets-manager") {
    return {
      kind: "secrets-manager",
      recoveryWindowDays: Number(linked.recoveryWindowDays ?? 7),
      kmsKeyId: typeof linked.kmsKeyId === "string" ? linked.kmsKeyId : undefined,
    };
  }
  throw new Error("the KeyStore link names no known adapter");
}

export const linkKeyStore = (settings: KeyStoreSettings): Record<string, string> => ({
  SST_RESOURCE_KeyStore: JSON.stringify({ type: "sst.sst.Linkable", ...settings }),
});

/**
 * The key that signs audit checkpoints: an asymmetric KMS key in the cloud, a stand-in Ed25519
 * key file offline. Read lazily: only the audit routes need it.
 */
export type CheckpointSignerConfig =
  | { kind: "kms"; keyId: string }
  | { kind: "stand-in-ed25519"; keyFile: string };

export function checkpointSignerConfig(): CheckpointSignerConfig {
  return (Resource as unknown as { AuditCheckpointKey: CheckpointSignerConfig }).AuditCheckpointKey;
}

export const linkCheckpointSigner = (signer: CheckpointSignerConfig): Record<string, string> => ({
  SST_RESOURCE_AuditCheckpointKey: JSON.stringify({ type: "sst.sst.Linkable", ...signer }),
});

/**
 * What the console needs to sign in: the identity provider's authorization code + PKCE endpoints
 * and the console's public client id. Served to the page as /console/config.json; its token
 * endpoint's origin is the only one besides the page's own that the CSP lets it connect to.
 */
export type ConsoleSettings = {
  clientId: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  /** Asked for at the authorization endpoint; providers that need none get "openid". */
  scope: string;
};

/** The console's sign-in settings, read by the console's function only. */
export const consoleSettings = (): ConsoleSettings => (Resource as unknown as { Console: ConsoleSettings }).Console;

export const linkConsole = (settings: ConsoleSettings): Record<string, string> => ({
  SST_RESOURCE_Console: JSON.stringify({ type: "sst.sst.Linkable", ...settings }),
});

/** The KEK-rotation job's knobs, from the function's environment (the CronV2 job and `npm start`). */
export type RotationSettings = {
  /** A KEK older than this is rotated. */
  rotationDays: number;
  /**
   * How long a replaced KEK version stays readable before it may be retired: longer than any
   * request that read it as current can still be running (API and Lambda limits are far below).
   */
  graceMs: number;
  /** How long one job holds an app before another may take it over. */
  leaseMs: number;
  /** Apps rotated at once, and re-wraps in flight per app. */
  concurrency: number;
};

/** The job's environment variables and their defaults: the cloud job (infra/jobs.ts) sets exactly these. */
export const ROTATION_DEFAULTS = {
  ROTATION_DAYS: 30,
  ROTATION_GRACE_MINUTES: 15,
  ROTATION_LEASE_SECONDS: 300,
  ROTATION_CONCURRENCY: 8,
} as const;

export function rotationSettings(env: Record<string, string | undefined> = process.env): RotationSettings {
  const number = (name: keyof typeof ROTATION_DEFAULTS, min: number) => {
    const value = env[name] === undefined || env[name] === "" ? ROTATION_DEFAULTS[name] : Number(env[name]);
    if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number of at least ${min}`);
    return value;
  };
  return {
    rotationDays: number("ROTATION_DAYS", 0),
    graceMs: number("ROTATION_GRACE_MINUTES", 0) * 60_000,
    leaseMs: number("ROTATION_LEASE_SECONDS", 1) * 1000,
    concurrency: Math.floor(number("ROTATION_CONCURRENCY", 1)),
  };
}
