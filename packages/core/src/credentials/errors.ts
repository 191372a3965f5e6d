import { BulkheadError, InternalError } from "../errors.ts";

/** A sealed credential failed to open: tampered, moved, truncated, or its KEK version is gone. */
export class CredentialIntegrityError extends InternalError {
  override readonly name = "CredentialIntegrityError";
}

/** Thrown when some of an app's DEKs could not be re-wrapped; the app's rotation stops there. */
export class RewrapFailed extends InternalError {
  override readonly name = "RewrapFailed";
}

export class SecretRotationRefused extends InternalError {
  override readonly name = "SecretRotationRefused";
}

export const credentialStoreMissing = () =>
  new BulkheadError("credential-store-missing", "This app has no credential store; recreate the app to get one.");
/** What the caller learns of a CredentialIntegrityError: that the value was withheld, never why. */
export const credentialIntegrity = () => new BulkheadError("credential-integrity");
export const rotationDeferred = (until: string) =>
  new BulkheadError("rotation-deferred", `The previous key version stays readable until ${until}; rotate again after that.`, { retryAfter: until });
export const rotationBusy = () => new BulkheadError("rotation-busy", "Another rotation of this app is running; try again shortly.");
