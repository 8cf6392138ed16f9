import type { z } from "zod";

export interface ZodIssuesOptions {
  /** Put before every path, so keys read as the operator writes them (`http` makes `apiKeys.0` read `http.apiKeys.0`). */
  prefix?: string;
  /** What an issue about the value as a whole is called. Default "(root)". */
  root?: string;
  /** Where the value at a key came from ("file colmena.json", "env COLMENA_..."), when known. */
  origin?: (key: string) => string | undefined;
}

/**
 * Every issue of a zod error as `key: message` (`key (from <origin>): message`
 * when the origin is known), the one way Colmena names what is wrong with a
 * value. An unknown key is named itself, one entry per key, so that its
 * origin can be told too.
 */
export function zodIssues(error: z.ZodError, options: ZodIssuesOptions = {}): string[] {
  const { prefix, root = "(root)", origin } = options;
  return error.issues.flatMap((issue) => {
    const path = [...(prefix === undefined ? [] : [prefix]), ...issue.path.map(String)].join(".");
    const keys = issue.code === "unrecognized_keys" ? issue.keys.map((k) => (path ? `${path}.${k}` : k)) : [path];
    return keys.map((key) => {
      const from = key ? origin?.(key) : undefined;
      return `${key || root}${from === undefined ? "" : ` (from ${from})`}: ${issue.message}`;
    });
  });
}
