/**
 * A registry as the pipeline's image steps see it: what a tag points at (skopeo, which speaks the
 * distribution API and its token auth), and pushing a local image to a tag (the Docker CLI, against
 * whatever engine DOCKER_HOST names). Credentials live for one session in a throw-away Docker config
 * that both tools read, never on a command line.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { UserError } from "../errors";
import { secretSetCommand } from "../config/keys";
import { PLATFORM_FLAG } from "../platform";
import { tail } from "../runner";

export class RegistryError extends UserError {}

export interface RegistryLogin {
  readonly username: string;
  readonly password: string;
}

/** Docker Hub's key in the Docker config is its legacy v1 URL (skopeo reads that key as docker.io). */
const dockerConfigKey = (registry: string) => (registry === "docker.io" ? "https://index.docker.io/v1/" : registry);

/**
 * The login `docker login` stored for `registry` in the user's Docker config (DOCKER_CONFIG, else
 * ~/.docker), which the push uses when no registryUsername is set; undefined when none is stored
 * inline (a credential helper's is not read).
 */
export function dockerConfigLogin(registry: string, env: NodeJS.ProcessEnv = process.env): RegistryLogin | undefined {
  let auths: Record<string, { auth?: string }> = {};
  try {
    const file = join(env.DOCKER_CONFIG ?? join(homedir(), ".docker"), "config.json");
    auths = (JSON.parse(readFileSync(file, "utf8")) as { auths?: typeof auths }).auths ?? {};
  } catch {
    return undefined;
  }
  const aliases = registry === "docker.io" ? ["docker.io", "index.docker.io"] : [];
  const auth = [dockerConfigKey(registry), ...aliases].map((key) => auths[key]?.auth).find((value) => value);
  if (!auth) return undefined;
  const decoded = Buffer.from(auth, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon > 0 ? { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) } : undefined;
}

interface ToolResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

function runTool(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "ENOENT"
          ? new RegistryError(
              `${command} is not installed: ${command === "skopeo" ? "apt-get install skopeo" : "apt-get install docker.io"}`,
            )
          : error,
      ),
    );
    child.on("close", (status) => resolve({ status: status ?? 1, stdout, stderr }));
  });
}

/** `host[:port]` of a reference `host[:port]/path:tag`. */
export function registryHost(reference: string): string {
  return reference.split("/")[0] ?? reference;
}

/** Docker's own rule: a registry on the loopback interface is spoken to over plain HTTP. */
export function isLoopbackRegistry(host: string): boolean {
  const name = host.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return name === "localhost" || name === "::1" || /^127\./.test(name);
}

export class RegistrySession {
  private username?: string;

  private constructor(
    private readonly configDir: string,
    private readonly registry: string,
  ) {}

  /**
   * A session with `registry`. With a login, the credentials go into the session's own Docker config
   * (the file `docker login` writes, which skopeo reads too), not through `docker login`: through
   * podman's Docker API that ignores the engine's plain-HTTP registries. A wrong password surfaces at
   * the first question to the registry.
   */
  static open(registry: string, login?: RegistryLogin): RegistrySession {
    const session = new RegistrySession(mkdtempSync(join(tmpdir(), "ralph-release-registry-")), registry);
    if (login) {
      const auth = Buffer.from(`${login.username}:${login.password}`).toString("base64");
      const auths = { [dockerConfigKey(registry)]: { auth } };
      writeFileSync(session.authFile(), JSON.stringify({ auths }), { mode: 0o600 });
      session.username = login.username;
    }
    return session;
  }

  private authFile(): string {
    return join(this.configDir, "config.json");
  }

  /** Without a login of the stack's own, the tools use the user's (their `docker login`). */
  private env(): NodeJS.ProcessEnv {
    return this.username ? { ...process.env, DOCKER_CONFIG: this.configDir } : process.env;
  }

  /** The manifest digest `reference` (`host/path:tag`) points at, or undefined when the tag does not exist. */
  async digestOf(reference: string): Promise<string | undefined> {
    return this.inspect(reference, "{{.Digest}}");
  }

  /**
   * The version label (`org.opencontainers.image.version`, else `version`) of the image `reference`
   * points at: undefined when the tag does not exist or the image has neither.
   */
  async versionLabelOf(reference: string): Promise<string | undefined> {
    // Ralph's own Dockerfile-prod labels `version`; this pipeline's images carry both.
    const labels = await this.inspect(
      reference,
      '{{index .Labels "org.opencontainers.image.version"}} {{index .Labels "version"}}',
    );
    return labels?.split(" ").find((label) => label !== "" && label !== "<no value>");
  }

  /**
   * The image id (config digest) of the image `reference` points at: the id a local engine gives it.
   * Undefined when the tag does not exist or points at a list of images.
   */
  async imageIdOf(reference: string): Promise<string | undefined> {
    const raw = await this.inspect(reference, undefined);
    if (raw === undefined) return undefined;
    const config = (JSON.parse(raw) as { config?: { digest?: string } }).config;
    return config?.digest;
  }

  /** skopeo inspect's `format` of `reference` (its raw manifest without one); undefined when the tag does not exist. */
  private async inspect(reference: string, format: string | undefined): Promise<string | undefined> {
    const args = ["inspect", ...(format === undefined ? ["--raw"] : ["--format", format])];
    if (this.username) args.push("--authfile", this.authFile());
    if (isLoopbackRegistry(registryHost(reference))) args.push("--tls-verify=false");
    const result = await runTool("skopeo", [...args, `docker://${reference}`], this.env());
    if (result.status === 0) return result.stdout.trim();
    // The distribution API's MANIFEST_UNKNOWN (and NAME_UNKNOWN for a repository never pushed to).
    if (/manifest unknown|name unknown|repository name not known/i.test(result.stderr)) return undefined;
    const denied = /unauthorized|authentication required|denied/i.test(result.stderr);
    throw new RegistryError(
      `could not ask ${this.registry} about ${reference}: ${tail(result.stderr, 5)}` +
        (denied
          ? `\n  fix: ${this.username ? `check registryUsername (${this.username}) and registryPassword` : "set registryUsername and registryPassword"} (${secretSetCommand("registryPassword")})`
          : ""),
    );
  }

  /** Tags the local image `localImage` (an id) as `reference` and pushes it. */
  async push(localImage: string, reference: string): Promise<void> {
    await this.tagLocal(localImage, reference);
    await this.docker(["push", reference]);
  }

  /** Names the local image `localImage` (an id) `reference` in the local engine. */
  async tagLocal(localImage: string, reference: string): Promise<void> {
    await this.docker(["tag", localImage, reference]);
  }

  private async docker(args: string[]): Promise<void> {
    const result = await runTool("docker", args, this.env());
    if (result.status !== 0) {
      throw new RegistryError(`docker ${args.join(" ")} failed:\n${tail(result.stdout + result.stderr, 20)}`);
    }
  }

  /**
   * Pulls `source` (`host/path@sha256:…`) into the local engine; returns the local image's id. The id
   * is the digest of the image's config, which names every layer: the same id is the same image.
   */
  async pull(source: string): Promise<string> {
    const pulled = await runTool("docker", ["pull", PLATFORM_FLAG, "--quiet", source], this.env());
    if (pulled.status !== 0) {
      throw new RegistryError(`docker pull ${source} failed:\n${tail(pulled.stdout + pulled.stderr, 20)}`);
    }
    const inspected = await runTool("docker", ["image", "inspect", "--format", "{{.Id}}", source], this.env());
    const id = inspected.stdout.trim();
    if (inspected.status !== 0 || !id.startsWith("sha256:")) {
      throw new RegistryError(`pulled ${source} but cannot read its id:\n${tail(inspected.stderr, 5)}`);
    }
    return id;
  }

  /**
   * Writes `reference` (`host/path:tag`) from `source` (`host/path@sha256:…`) inside the registry: the
   * same manifest, byte for byte, so the tag serves the same digest.
   */
  async copy(source: string, reference: string): Promise<void> {
    const args = ["copy", "--preserve-digests"];
    if (this.username) args.push("--authfile", this.authFile());
    if (isLoopbackRegistry(registryHost(reference))) args.push("--src-tls-verify=false", "--dest-tls-verify=false");
    const result = await runTool("skopeo", [...args, `docker://${source}`, `docker://${reference}`], this.env());
    if (result.status !== 0) {
      throw new RegistryError(`skopeo copy of ${source} to ${reference} failed:\n${tail(result.stderr, 20)}`);
    }
  }

  /** Forgets the login: the throw-away config goes. */
  close(): void {
    rmSync(this.configDir, { recursive: true, force: true });
  }
}
