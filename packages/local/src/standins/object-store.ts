import { join, resolve, sep } from "node:path";

/**
 * Stand-in for the S3 bucket holding sources and artifacts: `<root>/<bucket>/<key>` on disk.
 * Keys are checked segment by segment, so no key can name a path outside its bucket.
 */
export type LocalObjectStore = {
  root: string;
  /** The file or folder for `bucket/key` (a key ending in `/` is a folder). */
  path: (bucket: string, key: string) => string;
};

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export class BadObjectKey extends Error {
  override readonly name = "BadObjectKey";
}

export function localObjectStore(root: string): LocalObjectStore {
  const base = resolve(root);
  return {
    root: base,
    path(bucket, key) {
      const segments = key.replace(/\/$/, "").split("/");
      if (!SEGMENT.test(bucket) || segments.some((s) => !SEGMENT.test(s) || s === "..")) throw new BadObjectKey(`not a valid object key: ${bucket}/${key}`);
      const path = join(base, bucket, ...segments);
      if (!path.startsWith(`${base}${sep}`)) throw new BadObjectKey(`not a valid object key: ${bucket}/${key}`);
      return path;
    },
  };
}
