import { keyStoreSettings } from "../config.ts";
import { logger } from "../log.ts";
import { KeyStoreStandIn } from "./key-store-stand-in.ts";
import type { KeyStore } from "./key-store.ts";
import { SecretsManagerKeyStore } from "./secrets-manager-key-store.ts";

let selected: KeyStore | undefined;

/**
 * The one place that picks the key-store adapter, from the `KeyStore` link read once per
 * process: deployed functions get Secrets Manager, `npm start` gets the offline stand-in.
 */
export function keyStore(): KeyStore {
  if (selected) return selected;
  const settings = keyStoreSettings();
  selected = settings.kind === "offline-stand-in"
    ? new KeyStoreStandIn(settings.directory)
    : new SecretsManagerKeyStore(settings);
  logger.info("key store selected", { keyStore: selected.kind });
  return selected;
}
