import { randomBytes } from "node:crypto";
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from "@aws-sdk/client-secrets-manager";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import { BoundedCache } from "../bounded-cache.ts";
import { tenantCredentials } from "../data/tenant-credentials.ts";
import { KekNotFound } from "./errors.ts";
import {
  type Kek,
  assertKey, isKekVersionId, kekSecretName, kekTags, STAGE, stagesOf, versionOfRetriedCreate,
  type KekRef, type KekVersionInfo, type KeyStore,
} from "./key-store.ts";

export type SecretsManagerSettings = {
  /** Days a destroyed store stays restorable (Secrets Manager allows 7–30). */
  recoveryWindowDays: number;
  /** A customer-managed KMS key for the secrets; Secrets Manager's own key when absent. */
  kmsKeyId?: string;
};

/** KEK versions never change once written, so a version read stays valid; the cache only saves calls. */
const CACHE_MS = 60_000;
const MAX_CACHED = 256;
/** As many org clients as tenant tables (data/tables.ts). */
const MAX_CACHED_ORGS = 256;

/**
 * The cloud adapter: one Secrets Manager secret per app, tagged with org and app, holding the
 * KEK as binary. Version ids are the client request tokens we choose, so a retried create is
 * recognised rather than duplicated.
 *
 * Each org's secrets are reached by a client of its own, signed with the org's tenant
 * credentials (the tenant data role assumed with `org=<org>`), whose policy admits only secrets
 * under `bulkhead/<org>/`: the function's own role holds no Secrets Manager right at all.
 */
export class SecretsManagerKeyStore implements KeyStore {
  readonly kind = "secrets-manager";
  private readonly clients = new BoundedCache<string, SecretsManagerClient>(MAX_CACHED_ORGS);
  private readonly cache = new BoundedCache<string, { kek: Kek; until: number }>(MAX_CACHED);

  constructor(
    private readonly settings: SecretsManagerSettings,
    private readonly credentialsFor: (org: string) => AwsCredentialIdentityProvider | undefined = tenantCredentials,
  ) {
    if (!Number.isInteger(settings.recoveryWindowDays) || settings.recoveryWindowDays < 7 || settings.recoveryWindowDays > 30) {
      throw new Error("recoveryWindowDays must be an integer from 7 to 30");
    }
  }

  /** One client per org, created on first use: functions that never touch a credential never construct one. */
  private client(ref: KekRef): SecretsManagerClient {
    let client = this.clients.get(ref.org);
    if (!client) {
      kekSecretName(ref); // refuses a malformed org before any credentials are bound to it
      const credentials = this.credentialsFor(ref.org);
      client = new SecretsManagerClient(credentials ? { credentials } : {});
      this.clients.set(ref.org, client);
    }
    return client;
  }

  async create(ref: KekRef, requestToken: string): Promise<Kek> {
    if (!isKekVersionId(requestToken)) throw new Error("request token must be 32–64 characters of A-Z a-z 0-9 -");
    const key = randomBytes(32);
    try {
      await this.client(ref).send(new CreateSecretCommand({
        Name: kekSecretName(ref),
        Description: `Bulkhead key-encryption key of app ${ref.app} in org ${ref.org}`,
        SecretBinary: key,
        ClientRequestToken: requestToken,
        KmsKeyId: this.settings.kmsKeyId,
        Tags: kekTags(ref),
      }));
      return { version: requestToken, key };
    } catch (error) {
      // A retried create whose first attempt went through: the version the token names is ours.
      if (error instanceof ResourceExistsException) return versionOfRetriedCreate(this, ref, requestToken);
      throw error;
    }
  }

  async current(ref: KekRef): Promise<Kek> {
    const found = await this.read(ref, { VersionStage: "AWSCURRENT" });
    this.remember(ref, found);
    return found;
  }

  async version(ref: KekRef, versionId: string): Promise<Kek> {
    if (!isKekVersionId(versionId)) throw new KekNotFound("no such KEK version");
    const cacheKey = `${kekSecretName(ref)}@${versionId}`;
    const hit = this.cache.get(cacheKey);
    if (hit && hit.until > Date.now()) return hit.kek;
    const found = await this.read(ref, { VersionId: versionId });
    this.remember(ref, found);
    return found;
  }

  async destroy(ref: KekRef, options: { unused?: boolean } = {}): Promise<void> {
    const name = kekSecretName(ref);
    for (const cacheKey of this.cache.keys()) if (cacheKey.startsWith(`${name}@`)) this.cache.delete(cacheKey);
    try {
      await this.client(ref).send(new DeleteSecretCommand(options.unused
        ? { SecretId: name, ForceDeleteWithoutRecovery: true }
        : { SecretId: name, RecoveryWindowInDays: this.settings.recoveryWindowDays }));
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return;
      // Already scheduled for deletion by an earlier attempt: the store is on its way out.
      if (error instanceof InvalidRequestException && /marked for deletion|scheduled for deletion/i.test(error.message)) return;
      throw error;
    }
  }

  async describe(ref: KekRef): Promise<KekVersionInfo[]> {
    try {
      const reply = await this.client(ref).send(new DescribeSecretCommand({ SecretId: kekSecretName(ref) }));
      if (reply.DeletedDate) throw new KekNotFound("the credential store is being deleted");
      return Object.entries(reply.VersionIdsToStages ?? {}).map(([id, stages]) => ({ id, stages }));
    } catch (error) {
      if (error instanceof ResourceNotFoundException) throw new KekNotFound("no such credential store");
      throw error;
    }
  }

  async createPending(ref: KekRef, requestToken: string): Promise<Kek> {
    if (!isKekVersionId(requestToken)) throw new Error("request token must be 32–64 characters of A-Z a-z 0-9 -");
    const key = randomBytes(32);
    try {
      await this.client(ref).send(new PutSecretValueCommand({
        SecretId: kekSecretName(ref),
        ClientRequestToken: requestToken,
        SecretBinary: key,
        VersionStages: [STAGE.pending],
      }));
      return { version: requestToken, key };
    } catch (error) {
      if (error instanceof ResourceExistsException) return versionOfRetriedCreate(this, ref, requestToken);
      throw error;
    }
  }

  async promote(ref: KekRef, versionId: string): Promise<void> {
    const SecretId = kekSecretName(ref);
    const { current, pending } = stagesOf(await this.describe(ref));
    if (current !== versionId && pending !== versionId) throw new Error("only the pending version can be promoted");
    if (current !== versionId) {
      // Secrets Manager moves AWSPREVIOUS to the version AWSCURRENT leaves.
      await this.client(ref).send(new UpdateSecretVersionStageCommand({
        SecretId, VersionStage: STAGE.current, MoveToVersionId: versionId, RemoveFromVersionId: current,
      }));
    }
    if (pending === versionId) {
      await this.client(ref).send(new UpdateSecretVersionStageCommand({ SecretId, VersionStage: STAGE.pending, RemoveFromVersionId: versionId }));
    }
  }

  async retire(ref: KekRef, versionId: string): Promise<void> {
    const SecretId = kekSecretName(ref);
    const version = (await this.describe(ref)).find((v) => v.id === versionId);
    if (!version) return;
    if (version.stages.includes(STAGE.current) || version.stages.includes(STAGE.pending)) {
      throw new Error("the current or pending version cannot be retired");
    }
    for (const VersionStage of version.stages) {
      await this.client(ref).send(new UpdateSecretVersionStageCommand({ SecretId, VersionStage, RemoveFromVersionId: versionId }));
    }
    this.cache.delete(`${SecretId}@${versionId}`);
  }

  private async read(ref: KekRef, which: { VersionStage: string } | { VersionId: string }): Promise<Kek> {
    try {
      const reply = await this.client(ref).send(new GetSecretValueCommand({ SecretId: kekSecretName(ref), ...which }));
      return { version: reply.VersionId!, key: assertKey(reply.SecretBinary, "the KEK secret") };
    } catch (error) {
      if (error instanceof ResourceNotFoundException) throw new KekNotFound("no such credential store or KEK version");
      if (error instanceof InvalidRequestException && /marked for deletion/i.test(error.message)) {
        throw new KekNotFound("the credential store is being deleted");
      }
      throw error;
    }
  }

  private remember(ref: KekRef, kek: Kek): void {
    this.cache.set(`${kekSecretName(ref)}@${kek.version}`, { kek, until: Date.now() + CACHE_MS });
  }
}
