/**
 * Masks values that look like secrets in text we show back (build log excerpts, failure reasons).
 * It is a second line: secrets should never be printed at all, but builds run user code.
 */
const PATTERNS: readonly RegExp[] = [
  // PEM private keys, whole block.
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
  // JWTs and other dot-separated base64url tokens starting with a JSON header.
  /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g,
  // AWS access key ids (long-term and temporary).
  /\b(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{16}\b/g,
  // Bearer / Basic authorization values.
  /\b(?:Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  // URLs with inline credentials.
  /\b([a-z][a-z0-9+.-]*:\/\/)[^\s:/@]+:[^\s@/]+@/gi,
];

/** `name=value` / `name: value` where the name says it is secret. */
const NAMED_SECRET = /\b([A-Za-z0-9_.-]*(?:secret|password|passwd|token|api[_-]?key|access[_-]?key|private[_-]?key|session[_-]?key|credential)[A-Za-z0-9_.-]*)(["']?\s*[:=]\s*["']?)([^\s"',;]+)/gi;

export const REDACTED = "[redacted]";

export function redactSecrets(text: string, knownSecrets: readonly string[] = []): string {
  let out = text;
  for (const secret of knownSecrets) {
    if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  }
  out = out.replace(NAMED_SECRET, (_match, name: string, separator: string) => `${name}${separator}${REDACTED}`);
  for (const pattern of PATTERNS) {
    out = out.replace(pattern, (match, scheme?: string) =>
      typeof scheme === "string" && match.startsWith(scheme) ? `${scheme}${REDACTED}@` : REDACTED);
  }
  return out;
}
