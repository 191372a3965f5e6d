/** Matches a request path against a route template; returns its path parameters. */
export function matchPath(template: string, path: string): Record<string, string> | undefined {
  const want = template.split("/");
  const got = path.split("/");
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const segment = want[i]!;
    if (segment.startsWith("{")) {
      if (!got[i]) return undefined;
      const value = safeDecode(got[i]!);
      if (value === undefined) return undefined;
      params[segment.slice(1, -1)] = value;
    } else if (segment !== got[i]) return undefined;
  }
  return params;
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
