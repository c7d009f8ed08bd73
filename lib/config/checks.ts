/** Checks of single values, shared by the key table and the readers. Pure. */

/** `a, b (>= 1.2)` → its relations; empty for "". */
export const dependencyList = (value: string) =>
  value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
const RELATION = /^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?( \((<<|<=|=|>=|>>) [A-Za-z0-9.+~:-]+\))?$/;
export function dependencyListProblem(value: string): string | undefined {
  const bad = dependencyList(value).filter((item) => !RELATION.test(item));
  return bad.length > 0
    ? `${bad.map((item) => JSON.stringify(item)).join(", ")} is not a Debian package relation like \`libjpeg-dev\` or \`libfoo (>= 1.2)\``
    : undefined;
}

export const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/;
export const HOST_PORT =
  /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$|^\[::1\](:\d{1,5})?$/;

export function matches(pattern: RegExp, what: string) {
  return (value: string) => (pattern.test(value) ? undefined : `${JSON.stringify(value)} is not ${what}`);
}

export function checkHttpsUrl(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${JSON.stringify(value)} is not a URL`;
  }
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:" && LOOPBACK_HOST.test(url.host)) return undefined;
  return `${JSON.stringify(value)} must use https (plain http only to loopback, for tests): the token travels with every request`;
}
