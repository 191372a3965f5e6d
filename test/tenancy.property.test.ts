import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RESERVED_ORG_SLUGS, isOrgSlug } from "../packages/core/src/ids.ts";
import { parseHost } from "../packages/core/src/tenancy.ts";

const base = "api.example.com";
const slug = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])$/).filter(isOrgSlug);

describe("host parsing", () => {
  it("an org host is exactly one valid label above the base domain", () => {
    fc.assert(fc.property(slug, (org) => {
      expect(parseHost(`${org}.${base}`, base)).toEqual({ kind: "org", org });
    }));
  });

  it("the apex is the platform host", () => {
    expect(parseHost(base, base)).toEqual({ kind: "platform" });
  });

  it("more than one label never yields an org", () => {
    fc.assert(fc.property(slug, slug, (a, b) => {
      expect(parseHost(`${a}.${b}.${base}`, base).kind).toBe("invalid");
    }));
  });

  it("upper case, reserved labels and other domains are refused", () => {
    fc.assert(fc.property(slug.filter((s) => /[a-z]/.test(s)), (org) => {
      expect(parseHost(`${org.toUpperCase()}.${base}`, base).kind).toBe("invalid");
      expect(parseHost(`${org}.${base}.evil.test`, base).kind).toBe("invalid");
      expect(parseHost(`${org}.evil${base}`, base).kind).toBe("invalid");
      expect(parseHost(`${org}${base}`, base).kind).toBe("invalid");
      expect(parseHost(`${org}.${base}.`, base).kind).toBe("invalid");
    }));
    for (const reserved of RESERVED_ORG_SLUGS) expect(parseHost(`${reserved}.${base}`, base).kind).toBe("invalid");
  });

  it("any string at all either parses to a valid slug or is refused", () => {
    fc.assert(fc.property(fc.string(), (label) => {
      const result = parseHost(`${label}.${base}`, base);
      if (isOrgSlug(label)) expect(result).toEqual({ kind: "org", org: label });
      else expect(result.kind).toBe("invalid");
    }));
  });

  it("a missing domain name is refused", () => {
    expect(parseHost(undefined, base).kind).toBe("invalid");
    expect(parseHost("", base).kind).toBe("invalid");
  });
});
