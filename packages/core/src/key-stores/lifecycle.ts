import { randomUUID } from "node:crypto";
import { logger } from "../log.ts";
import type { KekRef, KeyStore } from "./key-store.ts";

/**
 * An app's credential store from birth to crypto-shredding. Creation provisions the KEK before
 * the app item exists, so a failure leaves no half-made app; deletion destroys the KEK before
 * any item goes, so whatever a crash leaves behind can no longer be decrypted.
 */
export async function provisionCredentialStore(keys: KeyStore, ref: KekRef): Promise<{ kekVersion: string }> {
  const kek = await keys.create(ref, randomUUID());
  logger.info("credential store provisioned", { app: ref.app, kekVersion: kek.version, keyStore: keys.kind });
  return { kekVersion: kek.version };
}

/** Undoes a provision whose app was never written. The store wrapped nothing, so no recovery window. */
export async function discardCredentialStore(keys: KeyStore, ref: KekRef): Promise<void> {
  try {
    await keys.destroy(ref, { unused: true });
  } catch (error) {
    // Holds no data: an orphan costs money, not secrecy. Logged so it can be swept by its tags.
    logger.error("could not discard an unused credential store", { app: ref.app, error: error as Error });
  }
}

/** Destroys the KEK (crypto-shred): whatever items remain can no longer be decrypted. */
export async function shredCredentialStore(keys: KeyStore, ref: KekRef): Promise<void> {
  await keys.destroy(ref);
  logger.info("credential store destroyed", { app: ref.app, keyStore: keys.kind });
}
