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

/**
 * A URL with a user name or password in it: the credential would be stored in plain text (the stack
 * file, state, previews, the provenance). The message names the URL with its credential blanked.
 */
export function userinfoProblem(value: string): string | undefined {
  const found = /\b([a-z][a-z0-9+.-]*:\/\/)([^/?#\s]*@)([^\s]*)/i.exec(value);
  if (!found) return undefined;
  return (
    `names a user or password in ${found[1]}***@${found[3]}: it would be stored in plain text (the stack file, ` +
    "state, previews, the provenance). Give the credential in its secret key (packagecloudToken, registryPassword, " +
    "githubToken) or pip's own configuration, never in a URL"
  );
}

/**
 * An image reference as docker takes it: `[registry[:port]/]name[:tag][@sha256:<64 hex>]`. A pin by
 * digest (what a release should use: the tag can move) must be a whole sha256.
 */
const IMAGE_REFERENCE =
  /^(?:[a-z0-9]+(?:[.-][a-z0-9]+)*(?::\d{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;
export function imageReferenceProblem(value: string): string | undefined {
  if (IMAGE_REFERENCE.test(value)) return undefined;
  if (/@/.test(value))
    return `${JSON.stringify(value)} is not an image pinned by digest: name[:tag]@sha256:<64 hex digits> (docker buildx imagetools inspect <image> shows it)`;
  return `${JSON.stringify(value)} is not an image reference like ubuntu:jammy or registry.example/team/base:1`;
}

/** https, or plain http to loopback (for tests): what a credential or a trusted download may travel over. */
export function isHttpsOrLoopback(url: URL): boolean {
  return url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOST.test(url.host));
}

/** `value` when it is a whole OpenPGP fingerprint, in gpg's upper case; else undefined. */
export function wholeFingerprint(value: string | undefined): string | undefined {
  return value !== undefined && /^[0-9A-Fa-f]{40}$/.test(value) ? value.toUpperCase() : undefined;
}

export function checkHttpsUrl(value: string): string | undefined {
  const credential = userinfoProblem(value);
  if (credential) return credential;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${JSON.stringify(value)} is not a URL`;
  }
  if (isHttpsOrLoopback(url)) return undefined;
  return `${JSON.stringify(value)} must use https (plain http only to loopback, for tests): the token travels with every request`;
}

/**
 * pip arguments, one by one: options and their values only, each of characters no shell or make gives
 * a meaning to. The first argument that is not is named in the problem.
 */
const PIP_ARGUMENT = /^(--?[A-Za-z0-9][A-Za-z0-9-]*(=[A-Za-z0-9._~:/%+,=@-]*)?|[A-Za-z0-9._~:/%+,=@-]+)$/;
export function pipArgsProblem(value: string): string | undefined {
  const credential = userinfoProblem(value);
  if (credential) return credential;
  const bad = value
    .split(/\s+/)
    .filter((arg) => arg.length > 0)
    .find((arg) => !PIP_ARGUMENT.test(arg));
  return bad === undefined
    ? undefined
    : `has the argument ${JSON.stringify(bad)}, which is not a pip option or value (letters, digits and . _ ~ : / % + , = @ - only; no quotes, spaces or shell characters such as ; | & > < $ \` ( ) *)`;
}
