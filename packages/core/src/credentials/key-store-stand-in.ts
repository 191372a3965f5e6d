import { randomBytes, randomUUID } from "node:crypto";
import { link, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Kek } from "./envelope.ts";
import {
  assertKey, isKekVersionId, KekNotFound, kekSecretName, kekTags, versionOfRetriedCreate, type KekRef, type KeyStore,
} from "./key-store.ts";

type StoredVersion = { id: string; key: string; stages: string[]; createdAt: string };
type StoredSecret = {
  standIn: string;
  name: string;
  tags: { Key: string; Value: string }[];
  versions: StoredVersion[];
};

const NOTICE = "Offline stand-in for an AWS Secrets Manager secret (npm start only). Never used in the cloud.";

/**
 * OFFLINE STAND-IN for the Secrets Manager key store, used by `npm start` and the tests' running
 * stack. One JSON file per app under the data dir (`<dir>/<org>/<app>.json`, mode 0600) with the
 * same model as the cloud: named versions carrying staging labels, `AWSCURRENT` on exactly one.
 * It persists across restarts with the data dir, and destroying a store removes its file at
 * once (no recovery window offline).
 */
export class KeyStoreStandIn implements KeyStore {
  readonly kind = "offline-stand-in";

  constructor(readonly directory: string) {}

  async create(ref: KekRef, requestToken: string): Promise<Kek> {
    if (!isKekVersionId(requestToken)) throw new Error("request token must be 32–64 characters of A-Z a-z 0-9 -");
    const file = this.file(ref);
    const secret: StoredSecret = {
      standIn: NOTICE,
      name: kekSecretName(ref),
      tags: kekTags(ref),
      versions: [{ id: requestToken, key: randomBytes(32).toString("base64"), stages: ["AWSCURRENT"], createdAt: new Date().toISOString() }],
    };
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const staged = `${file}.${randomUUID()}.tmp`;
    await writeFile(staged, JSON.stringify(secret), { mode: 0o600 });
    try {
      // link() fails when the file exists: an atomic create-if-absent, even across processes.
      await link(staged, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      return versionOfRetriedCreate(this, ref, requestToken);
    } finally {
      await rm(staged, { force: true });
    }
    return toKek(secret.versions[0]!);
  }

  async current(ref: KekRef): Promise<Kek> {
    const secret = await this.read(ref);
    const current = secret.versions.find((v) => v.stages.includes("AWSCURRENT"));
    if (!current) throw new KekNotFound("the credential store has no current version");
    return toKek(current);
  }

  async version(ref: KekRef, versionId: string): Promise<Kek> {
    const secret = await this.read(ref);
    const found = secret.versions.find((v) => v.id === versionId);
    if (!found) throw new KekNotFound("no such KEK version");
    return toKek(found);
  }

  async destroy(ref: KekRef): Promise<void> {
    await rm(this.file(ref), { force: true });
  }

  private file(ref: KekRef): string {
    kekSecretName(ref); // validates org and app before they become a path
    return join(this.directory, ref.org, `${ref.app}.json`);
  }

  private async read(ref: KekRef): Promise<StoredSecret> {
    let text: string;
    try {
      text = await readFile(this.file(ref), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new KekNotFound("no such credential store");
      throw error;
    }
    return JSON.parse(text) as StoredSecret;
  }
}

const toKek = (version: StoredVersion): Kek => ({
  version: version.id,
  key: assertKey(Buffer.from(version.key, "base64"), "the stand-in KEK"),
});
