import { Resource } from "sst/resource";

/**
 * What source uploads need from infra, linked as `Sources`. `endpoint` is set only offline, where
 * the object-store stand-in serves the presigned form on loopback (path-style, like any S3
 * endpoint override); in the cloud the S3 client resolves the bucket's regional endpoint.
 */
export type SourcesConfig = {
  bucket: string;
  region: string;
  /** The form's `content-length-range` cap, in bytes. */
  maxBytes: number;
  /** How long an issued form stays valid. */
  uploadSeconds: number;
  endpoint?: string;
};

/** 100 MiB and 15 minutes unless the stage says otherwise. */
export const SOURCE_UPLOAD_DEFAULTS = { maxBytes: 100 * 1024 * 1024, uploadSeconds: 900 } as const;

/** The environment variable that sets the cap: a stage's (infra/stage.ts) and `npm start`'s. */
export const SOURCE_MAX_BYTES_VARIABLE = "BULKHEAD_SOURCE_MAX_BYTES";

export const sourcesConfig = (): SourcesConfig => (Resource as unknown as { Sources: SourcesConfig }).Sources;

/** The `SST_RESOURCE_Sources` variable for this config: what the offline runtime exports. */
export const linkSources = (c: SourcesConfig): Record<string, string> => ({
  SST_RESOURCE_Sources: JSON.stringify({ type: "sst.sst.Linkable", ...c }),
});
