import { isGeneratedId, isOrgSlug } from "../ids.ts";
import { KekNotFound, KeyStoreConflict } from "./errors.ts";

/**
 * The port to an app's dedicated credential store: one secret per app holding its 256-bit
 * key-encryption key (KEK). KEK versions are the store's versions; staging labels say which
 * one is current. Adapters: Secrets Manager in the cloud, a stand-in offline.
 */
export type KekRef = { readonly org: string; readonly app: string };
/** One version of an app's key-encryption key. */
export type Kek = { version: string; key: Buffer };

export interface KeyStore {
  /** What backs this store; shows up in logs, never a secret. */
  readonly kind: "secrets-manager" | "offline-stand-in";
  /**
   * Creates the app's store with a fresh random KEK as its current version, whose version id is
   * `requestToken`. Repeating a call with the same token returns the same version.
   */
  create(ref: KekRef, requestToken: string): Promise<Kek>;
  /** The current KEK version. Throws KekNotFound when the app has no store. */
  current(ref: KekRef): Promise<Kek>;
  /** One KEK version by id. Throws KekNotFound when the store or the version is gone. */
  version(ref: KekRef, versionId: string): Promise<Kek>;
  /**
   * Destroys the store: every version of the KEK, so nothing it wrapped can be decrypted again.
   * `unused` marks a store that never wrapped anything (a failed app creation), which need not
   * wait out a recovery window. Destroying a store that is already gone succeeds.
   */
  destroy(ref: KekRef, options?: { unused?: boolean }): Promise<void>;

  // Rotation. Labels follow Secrets Manager: one AWSCURRENT, at most one AWSPENDING and one
  // AWSPREVIOUS; a version left without labels is deprecated and may be deleted at any time.

  /** The versions that carry a staging label, with their labels. */
  describe(ref: KekRef): Promise<KekVersionInfo[]>;
  /** Adds a fresh random KEK as a new version labelled AWSPENDING (moving that label if it was elsewhere). */
  createPending(ref: KekRef, requestToken: string): Promise<Kek>;
  /** Moves AWSCURRENT to `versionId` (the old current becomes AWSPREVIOUS) and clears AWSPENDING. Idempotent. */
  promote(ref: KekRef, versionId: string): Promise<void>;
  /** Removes every label from a version that is neither current nor pending: it may be deleted from then on. */
  retire(ref: KekRef, versionId: string): Promise<void>;
}

export const STAGE = { current: "AWSCURRENT", pending: "AWSPENDING", previous: "AWSPREVIOUS" } as const;
export type KekVersionInfo = { id: string; stages: string[] };

/** The labelled versions by role. A store always has a current version. */
export function stagesOf(versions: KekVersionInfo[]) {
  const holding = (stage: string) => versions.find((v) => v.stages.includes(stage))?.id;
  const current = holding(STAGE.current);
  if (!current) throw new KekNotFound("the credential store has no current version");
  return { current, pending: holding(STAGE.pending), previous: holding(STAGE.previous) };
}

/** Resolves a create that collided with an existing store: ours if it holds our token's version. */
export async function versionOfRetriedCreate(store: KeyStore, ref: KekRef, requestToken: string): Promise<Kek> {
  try {
    return await store.version(ref, requestToken);
  } catch (error) {
    if (error instanceof KekNotFound) throw new KeyStoreConflict();
    throw error;
  }
}

/** Version ids are Secrets Manager client request tokens: 32–64 characters. */
const VERSION_ID = /^[A-Za-z0-9-]{32,64}$/;
export const isKekVersionId = (value: string): boolean => VERSION_ID.test(value);

/**
 * The store's name, `bulkhead/<org>/<app>/kek`: per-app, so IAM can scope each app's runtime to
 * its own secret. Refuses anything that is not a well-formed org slug and app id, so a name can
 * never climb into another app's path.
 */
export function kekSecretName(ref: KekRef): string {
  if (!isOrgSlug(ref.org) || !isGeneratedId(ref.app)) throw new Error("invalid key-store reference");
  return `bulkhead/${ref.org}/${ref.app}/kek`;
}

export const kekTags = (ref: KekRef) => [
  { Key: "org", Value: ref.org },
  { Key: "app", Value: ref.app },
];

export function assertKey(key: Uint8Array | undefined, what: string): Buffer {
  if (!key || key.length !== 32) throw new Error(`${what} does not hold a 256-bit key`);
  return Buffer.from(key);
}
