import { randomBytes, randomUUID } from "node:crypto";
import { link, mkdir, open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { KekNotFound } from "./errors.ts";
import {
  type Kek,
  assertKey, isKekVersionId, kekSecretName, kekTags, STAGE, stagesOf, versionOfRetriedCreate,
  type KekRef, type KekVersionInfo, type KeyStore,
} from "./key-store.ts";

type StoredVersion = { id: string; key: string; stages: string[]; createdAt: string };
type StoredSecret = {
  standIn: string;
  name: string;
  tags: { Key: string; Value: string }[];
  versions: StoredVersion[];
};

const NOTICE = "Offline stand-in for an AWS Secrets Manager secret (npm start only). Never used in the cloud.";
/** A lock older than this belongs to a process that died holding it. */
const STALE_LOCK_MS = 10_000;
const LOCK_WAIT_MS = 15_000;

/**
 * OFFLINE STAND-IN for the Secrets Manager key store, used by `npm start`, `npm run rotate` and
 * the tests' running stack. One JSON file per app under the data dir (`<dir>/<org>/<app>.json`,
 * mode 0600) with the same model as the cloud: versions carrying staging labels, AWSCURRENT on
 * exactly one, AWSPENDING and AWSPREVIOUS on at most one each. Where Secrets Manager *may*
 * delete a version left without labels, the stand-in deletes it at once: the worst case, so an
 * offline run shows any DEK that still referenced it. Changes are made under a lock file and
 * written by rename, so `npm start` and `npm run rotate` can share a data dir. Destroying a
 * store removes its file at once (no recovery window offline).
 */
export class KeyStoreStandIn implements KeyStore {
  readonly kind = "offline-stand-in";

  constructor(readonly directory: string) {}

  async create(ref: KekRef, requestToken: string): Promise<Kek> {
    assertToken(requestToken);
    const file = this.file(ref);
    const version = newVersion(requestToken, [STAGE.current]);
    const secret: StoredSecret = { standIn: NOTICE, name: kekSecretName(ref), tags: kekTags(ref), versions: [version] };
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const staged = `${file}.${randomUUID()}.tmp`;
    await writeFile(staged, JSON.stringify(secret), { mode: 0o600 });
    try {
      // link() fails when the file exists: an atomic create-if-absent, even across processes.
      await link(staged, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      // Awaited here, not returned: the finally block below awaits too, and a returned promise that
      // rejected meanwhile would be reported as unhandled.
      return await versionOfRetriedCreate(this, ref, requestToken);
    } finally {
      await rm(staged, { force: true });
    }
    return toKek(version);
  }

  async current(ref: KekRef): Promise<Kek> {
    const secret = await this.read(ref);
    return toKek(secret.versions.find((v) => v.id === stagesOf(secret.versions).current)!);
  }

  async version(ref: KekRef, versionId: string): Promise<Kek> {
    const found = (await this.read(ref)).versions.find((v) => v.id === versionId);
    if (!found) throw new KekNotFound("no such KEK version");
    return toKek(found);
  }

  async destroy(ref: KekRef): Promise<void> {
    const file = this.file(ref);
    await withLock(file, () => rm(file, { force: true }));
  }

  async describe(ref: KekRef): Promise<KekVersionInfo[]> {
    return (await this.read(ref)).versions.map(({ id, stages }) => ({ id, stages: [...stages] }));
  }

  async createPending(ref: KekRef, requestToken: string): Promise<Kek> {
    assertToken(requestToken);
    let created: StoredVersion | undefined;
    await this.change(ref, (secret) => {
      const existing = secret.versions.find((v) => v.id === requestToken);
      if (existing) return void (created = existing); // a retry of a put that went through
      created = newVersion(requestToken, []);
      secret.versions.push(created);
      moveStage(secret, STAGE.pending, created.id);
    });
    return toKek(created!);
  }

  async promote(ref: KekRef, versionId: string): Promise<void> {
    await this.change(ref, (secret) => {
      const { current, pending } = stagesOf(secret.versions);
      if (current !== versionId && pending !== versionId) throw new Error("only the pending version can be promoted");
      if (current !== versionId) {
        moveStage(secret, STAGE.current, versionId);
        moveStage(secret, STAGE.previous, current);
      }
      removeStage(secret, STAGE.pending, versionId);
    });
  }

  async retire(ref: KekRef, versionId: string): Promise<void> {
    await this.change(ref, (secret) => {
      const version = secret.versions.find((v) => v.id === versionId);
      if (!version) return;
      if (version.stages.includes(STAGE.current) || version.stages.includes(STAGE.pending)) {
        throw new Error("the current or pending version cannot be retired");
      }
      version.stages = [];
    });
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

  /** Read, change and replace the file under its lock; versions left without labels are dropped. */
  private async change(ref: KekRef, apply: (secret: StoredSecret) => void): Promise<void> {
    const file = this.file(ref);
    await withLock(file, async () => {
      const secret = await this.read(ref);
      apply(secret);
      secret.versions = secret.versions.filter((v) => v.stages.length > 0);
      const staged = `${file}.${randomUUID()}.tmp`;
      await writeFile(staged, JSON.stringify(secret), { mode: 0o600 });
      await rename(staged, file);
    });
  }
}

function assertToken(requestToken: string): void {
  if (!isKekVersionId(requestToken)) throw new Error("request token must be 32–64 characters of A-Z a-z 0-9 -");
}

const newVersion = (id: string, stages: string[]): StoredVersion =>
  ({ id, key: randomBytes(32).toString("base64"), stages, createdAt: new Date().toISOString() });

/** Each label sits on one version at a time, as in Secrets Manager. */
function moveStage(secret: StoredSecret, stage: string, to: string): void {
  for (const version of secret.versions) {
    version.stages = version.stages.filter((s) => s !== stage);
    if (version.id === to) version.stages.push(stage);
  }
}

function removeStage(secret: StoredSecret, stage: string, from: string): void {
  const version = secret.versions.find((v) => v.id === from);
  if (version) version.stages = version.stages.filter((s) => s !== stage);
}

/** A cross-process lock: a `.lock` file created exclusively, taken over when stale. */
async function withLock<T>(file: string, work: () => Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      await (await open(lock, "wx", 0o600)).close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > STALE_LOCK_MS) await rm(lock, { force: true });
      else if (Date.now() > deadline) throw new Error("the key store stand-in is locked by another process");
      else await new Promise((resolve) => setTimeout(resolve, Math.min(100, 5 * 2 ** Math.min(attempt, 5))));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lock, { force: true });
  }
}

const toKek = (version: StoredVersion): Kek => ({
  version: version.id,
  key: assertKey(Buffer.from(version.key, "base64"), "the stand-in KEK"),
});
