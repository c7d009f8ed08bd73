import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  ConfigError,
  configTable,
  describeTarget,
  isSecretKey,
  KEYS,
  parseConfig,
  type RawConfig,
} from "../../../lib/config";
import { removeTempDirs, tempDir } from "../../support/gitRepo";
import { LATER_RALPH_PACKAGING, treeWithPackaging } from "../../support/packaging";
import { INKPY_CHECKOUT } from "../../support/pulumi";
import { BUNDLE_RELEASE, cloneRalph } from "../../support/ralphBundle";

afterAll(removeTempDirs);

const PACKAGECLOUD_KEY = "0123456789ABCDEF0123456789ABCDEF01234567";

const source = tempDir();
const GPG_KEY = "-----BEGIN PGP PRIVATE KEY BLOCK-----\nkey\n-----END PGP PRIVATE KEY BLOCK-----";
/**
 * A stack's raw configuration. A release signs as the publish workflow does (its OIDC identity, the
 * release's GPG key) unless `realKeys` is false.
 */
const raw = (
  stack: string,
  values: Record<string, string> = {},
  secretKeys: string[] = [],
  realKeys = stack === "release",
): RawConfig => ({
  stack,
  projectDir: "/nowhere",
  values: Object.fromEntries(
    Object.entries({
      source,
      inkpySource: INKPY_CHECKOUT,
      ...(realKeys ? { gpgSigningKey: GPG_KEY } : {}),
      ...values,
    }).map(([k, v]) => [`ralph-release:${k}`, v]),
  ),
  secretKeys: new Set([...secretKeys, ...(realKeys ? ["gpgSigningKey"] : [])].map((k) => `ralph-release:${k}`)),
  ciIdentity: realKeys,
});

function problemsOf(config: RawConfig): ConfigError {
  try {
    parseConfig(config);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  return expect.fail("configuration was accepted");
}

describe("image references", () => {
  it("take tags, registries with ports and digest pins; a pin that is not a whole sha256 is refused, naming the form", () => {
    const pin = `@sha256:${"0a".repeat(32)}`;
    for (const good of ["ubuntu:jammy", "127.0.0.1:5000/team/base:bookworm", `ubuntu:jammy${pin}`, `nginx${pin}`]) {
      expect(parseConfig(raw("snapshot", { baseImage: good, nginxImage: good })).settings.deb.baseImage).toBe(good);
    }
    const short = problemsOf(raw("snapshot", { baseImage: "ubuntu@sha256:abc" }));
    expect(short.problems.map((p) => [p.key, p.problem])).toEqual([
      [
        "ralph-release:baseImage",
        '"ubuntu@sha256:abc" is not an image pinned by digest: name[:tag]@sha256:<64 hex digits> (docker buildx imagetools inspect <image> shows it)',
      ],
    ]);
    expect(problemsOf(raw("snapshot", { nginxImage: "nginx:stable;id" })).problems[0].problem).toContain(
      "is not an image reference like ubuntu:jammy",
    );
  });
});

describe("URLs with credentials", () => {
  it("every URL key refuses a user or password in it, naming the key and the secret keys, never echoing it", () => {
    const urls = {
      packagecloudUrl: "https://TOKEN4711:@packagecloud.io",
      aptlyUrl: "https://apt:pw4711@apt.example.com/ralph",
      githubApiUrl: "https://x-access-token:ghs4711@api.github.com",
      sigstoreFulcioUrl: "https://u:p4711@fulcio.example",
      nodeAptSource: "https://u:p4711@deb.nodesource.com/node_22.x nodistro main",
    };
    const error = problemsOf(raw("snapshot", urls));
    const ofUrls = error.problems.filter((p) => Object.keys(urls).includes(p.key.replace("ralph-release:", "")));
    expect(ofUrls.map((p) => p.key).sort()).toEqual(
      Object.keys(urls)
        .map((k) => `ralph-release:${k}`)
        .sort(),
    );
    for (const problem of ofUrls) {
      expect(problem.problem).toMatch(/^names a user or password in https:\/\/\*\*\*@/);
      expect(problem.problem).toContain("Give the credential in its secret key");
    }
    expect(error.message).not.toMatch(/4711/);
  });
});

describe("parseConfig", () => {
  it("snapshot defaults: local registry, allegro namespace, ng, nothing published", () => {
    const { settings, secrets } = parseConfig(raw("snapshot"));
    expect(settings).toEqual({
      mode: "snapshot",
      source,
      mainBranch: "ng",
      distribution: { distro: "ubuntu", release: "jammy", name: "ubuntu/jammy" },
      // The checkout (an empty directory here) says nothing: the defaults, said as such.
      target: {
        distribution: { value: "ubuntu/jammy", from: "default" },
        python: { value: "3.10", from: "default: ubuntu/jammy's python3" },
        pip: { value: "", from: "default: the venv's own" },
        node: { value: "22.0.0", from: "default" },
      },
      images: {
        build: true,
        registry: "localhost:5000",
        namespace: "allegro",
        username: undefined,
        nginxImage: "nginx:stable",
        inkpy: { context: INKPY_CHECKOUT, dockerfile: `${INKPY_CHECKOUT}/Dockerfile` },
      },
      packagecloud: { repository: "allegro/ralph-snapshots", url: "https://packagecloud.io" },
      github: {
        repository: "allegro/ralph",
        apiUrl: "https://api.github.com",
        releaseId: undefined,
        environment: undefined,
        ciBackendUrl: undefined,
      },
      publish: { debTargets: ["aptly"], images: false, githubRelease: false },
      aptly: { root: resolve("/nowhere", "build/aptly"), url: undefined, gpgKey: undefined },
      indexWaitSeconds: 600,
      sigstore: { fulcioUrl: "https://fulcio.sigstore.dev", rekorUrl: "https://rekor.sigstore.dev" },
      signing: { checksums: "throw-away", bundles: "throw-away" },
      deb: {
        builder: "container",
        baseImage: "ubuntu:jammy",
        pythonMinimum: "3.10",
        nodeMinimum: "22.0.0",
        pipArgs: [],
        extraBuildDepends: [],
        extraDepends: [],
      },
      notices: [],
    });
    expect(Object.values(secrets).filter((value) => value !== undefined)).toEqual([]);
  });

  it("deb targets: named ones only, each once; a release needs one, and aptly signed and served", () => {
    const bad = problemsOf(raw("snapshot", { debTargets: "packagecloud,s3,aptly,aptly" }));
    expect(bad.message).toMatch(/debTargets: names "s3", not one of packagecloud, aptly \(or none\)/);
    expect(problemsOf(raw("snapshot", { debTargets: "aptly,aptly" })).message).toMatch(
      /debTargets: names a target twice/,
    );
    expect(parseConfig(raw("snapshot", { debTargets: "none" })).settings.publish.debTargets).toEqual([]);

    const credentials = { registryUsername: "bot", registryPassword: "pw", githubToken: "gh" };
    const secretKeys = ["registryPassword", "githubToken"];
    const none = problemsOf(raw("release", { ...credentials, debTargets: "none" }, secretKeys));
    expect(none.problems.map((p) => p.key)).toEqual(["ralph-release:debTargets"]);
    expect(none.message).toMatch(/installs ralph-core from a published apt repository/);

    const aptly = problemsOf(raw("release", { ...credentials, debTargets: "aptly" }, secretKeys));
    expect(aptly.problems.map((p) => p.key)).toEqual(["ralph-release:aptlyUrl", "ralph-release:aptlyGpgKey"]);
    expect(aptly.message).toMatch(/serve \/nowhere\/build\/aptly\/public over https/);

    // The release image fetches the key and ralph-core from aptlyUrl: plain http only to loopback (tests).
    const signedAptly = { ...credentials, debTargets: "aptly", aptlyGpgKey: "0123ABCD" };
    const plain = problemsOf(raw("release", { ...signedAptly, aptlyUrl: "http://apt.example.com/ralph" }, secretKeys));
    expect(plain.problems.map((p) => p.key)).toEqual(["ralph-release:aptlyUrl"]);
    expect(plain.message).toContain("is plain http (http://apt.example.com/ralph): the release ralph image downloads");
    expect(plain.message).toContain("serve /nowhere/build/aptly/public over https");
    const local = { ...signedAptly, aptlyUrl: "http://127.0.0.1:8080/ralph" };
    expect(parseConfig(raw("release", local, secretKeys)).settings.aptly.url).toBe("http://127.0.0.1:8080/ralph");
    expect(parseConfig(raw("snapshot", { aptlyUrl: "http://apt.example.com/ralph" })).settings.aptly.url).toBe(
      "http://apt.example.com/ralph",
    );

    // From packagecloud the image trusts the repository's key by the fingerprint configured.
    const packagecloud = { ...credentials, debTargets: "packagecloud", packagecloudToken: "pc" };
    const unpinned = problemsOf(raw("release", packagecloud, [...secretKeys, "packagecloudToken"]));
    expect(unpinned.problems.map((p) => p.key)).toEqual(["ralph-release:packagecloudGpgKey"]);
    expect(unpinned.message).toContain(
      "curl -fsSL https://packagecloud.io/allegro/ralph/gpgkey | gpg --show-keys (compare with the key packagecloud's site shows)",
    );
    const pinned = { ...packagecloud, packagecloudGpgKey: "0123456789abcdef0123456789abcdef01234567" };
    expect(parseConfig(raw("release", pinned, [...secretKeys, "packagecloudToken"])).settings.packagecloud.gpgKey).toBe(
      "0123456789ABCDEF0123456789ABCDEF01234567",
    );

    const { settings } = parseConfig(
      raw(
        "release",
        { ...credentials, debTargets: "aptly", aptlyUrl: "https://apt.example.com/ralph", aptlyGpgKey: "0123ABCD" },
        secretKeys,
      ),
    );
    expect(settings.publish.debTargets).toEqual(["aptly"]);
    expect(settings.aptly).toEqual({
      root: "/nowhere/build/aptly",
      url: "https://apt.example.com/ralph",
      gpgKey: "0123ABCD",
    });
  });

  it("GitHub: releases only from the release stack; the workflow environment needs a reachable stack", () => {
    const snapshot = problemsOf(raw("snapshot", { githubRelease: "true", githubToken: "gh" }, ["githubToken"]));
    expect(snapshot.problems.map((p) => p.key)).toEqual(["ralph-release:githubRelease"]);
    expect(snapshot.message).toMatch(/a snapshot has no release tag/);

    const environment = problemsOf(raw("snapshot", { githubEnvironment: "release", githubReleaseId: "12x" }));
    expect(environment.problems.map((p) => p.key)).toEqual([
      "ralph-release:githubToken",
      "ralph-release:githubReleaseId",
      "ralph-release:githubReleaseId",
      "ralph-release:ciPulumiBackendUrl",
      "ralph-release:ciPulumiPassphrase",
    ]);
    expect(environment.message).toContain("githubEnvironment none");

    const { settings } = parseConfig(
      raw(
        "snapshot",
        {
          githubEnvironment: "publish",
          githubToken: "gh",
          ciPulumiBackendUrl: "s3://bucket/state",
          ciPulumiAccessToken: "pul-1",
        },
        ["githubToken", "ciPulumiAccessToken"],
      ),
    );
    expect(settings.github).toEqual({
      repository: "allegro/ralph",
      apiUrl: "https://api.github.com",
      releaseId: undefined,
      environment: "publish",
      ciBackendUrl: "s3://bucket/state",
    });
  });

  it("release defaults publish everywhere, so they need every credential", () => {
    const error = problemsOf(raw("release"));
    expect(error.problems.map((p) => p.key)).toEqual([
      "ralph-release:registryUsername",
      "ralph-release:registryPassword",
      "ralph-release:packagecloudToken",
      "ralph-release:packagecloudGpgKey",
      "ralph-release:githubToken",
    ]);
    expect(error.message).toContain("pulumi config set --stack release --secret packagecloudToken");
    // A fix never tells the user to put a secret on a command line (shell history, the process list).
    for (const problem of error.problems.filter((p) => isSecretKey(p.key.replace("ralph-release:", "")))) {
      expect(problem.fix).toMatch(
        /--secret \w+ \(type <[^>]+> at its hidden prompt, or pipe it in; never as an argument\)/,
      );
    }
  });

  it("release with credentials as secrets parses, and secrets stay out of settings", () => {
    const values = { registryPassword: "pw-123", packagecloudToken: "pc-456", githubToken: "gh-789" };
    const { settings, secrets } = parseConfig(
      raw("release", { ...values, registryUsername: "bot", packagecloudGpgKey: PACKAGECLOUD_KEY }, Object.keys(values)),
    );
    expect(settings.mode).toBe("release");
    expect(settings.images.registry).toBe("docker.io");
    expect(JSON.stringify(settings)).not.toMatch(/pw-123|pc-456|gh-789/);
    expect(secrets).toEqual({
      registryPassword: "pw-123",
      packagecloudToken: "pc-456",
      githubToken: "gh-789",
      gpgSigningKey: GPG_KEY,
    });
  });

  it("a release never signs with a throw-away key: no GPG key, no signer outside the workflow, each refused with the fix", () => {
    const credentials = {
      registryUsername: "bot",
      registryPassword: "pw",
      packagecloudToken: "pc",
      githubToken: "gh",
      packagecloudGpgKey: PACKAGECLOUD_KEY,
    };
    const secretKeys = ["registryPassword", "packagecloudToken", "githubToken"];
    const error = problemsOf(raw("release", credentials, secretKeys, false));
    expect(error.problems.map((p) => p.key)).toEqual(["ralph-release:signingKey", "ralph-release:gpgSigningKey"]);
    expect(error.message).toContain(
      "gpg --armor --export-secret-keys <key id> | pulumi config set --stack release --secret gpgSigningKey",
    );
    expect(error.message).toContain(
      "run the release from publish.yml (keyless), or pulumi config set --stack release --secret signingKey < cosign.key",
    );
    // A key in the keyring (aptlyGpgKey) and a configured Sigstore key will do; the settings say who signs.
    const pem = "-----BEGIN PRIVATE KEY-----\nk\n-----END PRIVATE KEY-----";
    const { settings } = parseConfig(
      raw(
        "release",
        { ...credentials, aptlyGpgKey: "0123ABCD", signingKey: pem },
        [...secretKeys, "signingKey"],
        false,
      ),
    );
    expect(settings.signing).toEqual({ checksums: "keyring", bundles: "key" });
    expect(parseConfig(raw("release", credentials, secretKeys)).settings.signing).toEqual({
      checksums: "key",
      bundles: "keyless",
    });
    // A snapshot may, and its settings say so.
    expect(parseConfig(raw("snapshot")).settings.signing).toEqual({ checksums: "throw-away", bundles: "throw-away" });
  });

  it("lists every problem in one error, in the configuration table's order, each with key and fix", () => {
    const error = problemsOf(
      raw("snapshot", {
        distribution: "jammy",
        imageNamespace: "Allegro",
        registry: "https://docker.io",
        publishImages: "yes",
        mainBranch: "bad..name",
        packagecloudUrl: "http://packagecloud.io",
      }),
    );
    expect(error.problems.map((p) => p.key)).toEqual([
      "ralph-release:mainBranch",
      "ralph-release:distribution",
      "ralph-release:registry",
      "ralph-release:imageNamespace",
      "ralph-release:packagecloudUrl",
      "ralph-release:publishImages",
    ]);
    expect(error.message).toMatch(/^Configuration of stack 'snapshot' has 6 problems; nothing was built or published:/);
    expect(error.message).toContain(
      `ralph-release:distribution: "jammy" is neither auto nor a supported distribution (ubuntu/bionic, ubuntu/jammy, ubuntu/noble, debian/bullseye, debian/bookworm)`,
    );
    expect(error.message).toContain("Fix: pulumi config set --stack snapshot distribution 'ubuntu/jammy'");
    expect(error.message).toContain("must use https");
  });

  it("sends the CI's identity token to Sigstore over https only (plain http to loopback, for tests)", () => {
    const error = problemsOf(
      raw("snapshot", { sigstoreFulcioUrl: "http://fulcio.example.com", sigstoreRekorUrl: "rekor" }),
    );
    expect(error.problems.map((p) => [p.key, p.problem])).toEqual([
      [
        "ralph-release:sigstoreFulcioUrl",
        '"http://fulcio.example.com" must use https (plain http only to loopback, for tests): the token travels with every request',
      ],
      ["ralph-release:sigstoreRekorUrl", '"rekor" is not a URL'],
    ]);
  });

  it("refuses a secret stored in plain text without echoing it", () => {
    const error = problemsOf(raw("snapshot", { packagecloudToken: "leaky-token-value" }));
    expect(error.message).toContain("ralph-release:packagecloudToken: is stored in plain text in Pulumi.snapshot.yaml");
    expect(error.message).toContain("pulumi config set --stack snapshot --secret packagecloudToken");
    expect(error.message).not.toContain("leaky-token-value");
  });

  it("names unknown keys and guesses the intended one", () => {
    const error = problemsOf(raw("snapshot", { mainbranch: "ng", totallyUnrelatedSetting: "x" }));
    expect(error.problems[0]).toMatchObject({ key: "ralph-release:mainbranch" });
    expect(error.problems[0].fix).toContain("did you mean 'mainBranch'?");
    expect(error.problems[1].fix).not.toContain("did you mean");
  });

  it("ignores other namespaces' keys", () => {
    const config = raw("snapshot");
    expect(() => parseConfig({ ...config, values: { ...config.values, "docker:host": "unix:///x" } })).not.toThrow();
  });

  it("takes the mode from the stack name, or from `mode` for other stack names", () => {
    expect(parseConfig(raw("other", { mode: "snapshot" })).settings.mode).toBe("snapshot");
    expect(problemsOf(raw("staging")).message).toContain(
      "ralph-release:mode: is not set and stack 'staging' is not named after a mode",
    );
    expect(problemsOf(raw("staging", { mode: "prod" })).message).toContain(`"prod" is not a mode`);
  });

  it("a stack named after a mode is that mode: a stack file's `mode` cannot turn one into the other", () => {
    expect(problemsOf(raw("snapshot", { mode: "release" })).message).toContain(
      "ralph-release:mode: is release, but stack 'snapshot' is the snapshot stack",
    );
    expect(problemsOf(raw("snapshot-feature-x", { mode: "release" })).message).toContain(
      "Remove it: pulumi config rm --stack snapshot-feature-x mode",
    );
    expect(problemsOf(raw("release", { mode: "snapshot" })).message).toContain(
      "ralph-release:mode: is snapshot, but stack 'release' is the release stack",
    );
    // Saying what the name says is fine (the release CLI sets it on a branch's stack).
    expect(parseConfig(raw("snapshot-feature-x", { mode: "snapshot" })).settings.mode).toBe("snapshot");
  });

  it("resolves a relative source against the project and says how to fix a missing one", () => {
    const parent = tempDir();
    mkdirSync(`${parent}/ralph`);
    const { settings } = parseConfig({ ...raw("snapshot"), values: {}, projectDir: `${parent}/ralph-release` });
    expect(settings.source).toBe(`${parent}/ralph`);
    const error = problemsOf({ ...raw("snapshot"), values: {}, projectDir: "/nonexistent/project" });
    expect(error.message).toContain("/nonexistent/ralph does not exist");
    expect(error.message).toContain("git clone https://github.com/allegro/ralph ../ralph");
  });

  it("needs registry credentials in pairs, and only for a non-local registry", () => {
    expect(() => parseConfig(raw("snapshot", { publishImages: "true" }))).not.toThrow();
    expect(problemsOf(raw("snapshot", { publishImages: "true", registry: "ghcr.io" })).problems).toHaveLength(2);
    expect(problemsOf(raw("snapshot", { registryUsername: "bot" })).problems.map((p) => p.key)).toEqual([
      "ralph-release:registryPassword",
    ]);
  });

  it("a deb-only stack (images false) pushes nothing and needs no registry login", () => {
    const { settings } = parseConfig(
      raw("release", { images: "false", packagecloudToken: "t", githubToken: "g" }, [
        "packagecloudToken",
        "githubToken",
      ]),
    );
    expect(settings.images.build).toBe(false);
    expect(settings.publish.images).toBe(false);
    expect(
      problemsOf(
        raw(
          "release",
          { images: "true", packagecloudToken: "t", githubToken: "g", packagecloudGpgKey: PACKAGECLOUD_KEY },
          ["packagecloudToken", "githubToken"],
        ),
      ).problems.map((p) => p.key),
    ).toEqual(["ralph-release:registryUsername", "ralph-release:registryPassword"]);
    expect(problemsOf(raw("snapshot", { images: "no" })).problems.map((p) => p.key)).toEqual(["ralph-release:images"]);
  });

  it("inkpy is its own checkout: a snapshot without one leaves it out and says so; a release stops", () => {
    const missing = { inkpySource: "../inkpy" };
    const snapshot = parseConfig(raw("snapshot", missing)).settings;
    expect(snapshot.images.inkpy).toBeUndefined();
    expect(snapshot.notices).toEqual([
      "inkpy left out: no Dockerfile in ../inkpy (inkpySource). To build it: git clone https://github.com/allegro/inkpy ../inkpy (or pulumi config set --stack snapshot inkpySource '../inkpy'); to leave it out quietly: inkpy false.",
    ]);
    const credentials = {
      packagecloudToken: "t",
      githubToken: "g",
      registryUsername: "u",
      registryPassword: "p",
      packagecloudGpgKey: PACKAGECLOUD_KEY,
    };
    const secretKeys = ["packagecloudToken", "githubToken", "registryPassword"];
    const refused = problemsOf(raw("release", { ...missing, ...credentials }, secretKeys));
    expect(refused.problems.map((p) => p.key)).toEqual(["ralph-release:inkpySource"]);
    expect(refused.message).toContain(
      "/inkpy/Dockerfile does not exist (inkpy is its own project, not part of Ralph's tree)",
    );
    expect(refused.message).toContain("release without it: pulumi config set --stack release inkpy false");
    const without = parseConfig(raw("release", { ...missing, ...credentials, inkpy: "false" }, secretKeys)).settings;
    expect([without.images.inkpy, without.notices]).toEqual([undefined, []]);
  });

  it("extra build and runtime dependencies go into the control file's relations, and are checked", () => {
    const { deb } = parseConfig(
      raw("snapshot", { extraBuildDepends: "zlib1g-dev, libjpeg-dev (>= 1:1.5)", extraDepends: "libjpeg62-turbo" }),
    ).settings;
    expect([deb.extraBuildDepends, deb.extraDepends]).toEqual([
      ["zlib1g-dev", "libjpeg-dev (>= 1:1.5)"],
      ["libjpeg62-turbo"],
    ]);
    const bad = problemsOf(raw("snapshot", { extraBuildDepends: "zlib1g-dev; rm -rf /" }));
    expect(bad.message).toContain(
      'ralph-release:extraBuildDepends: "zlib1g-dev; rm -rf /" is not a Debian package relation',
    );
  });

  it("the builder's Python follows the distribution unless pythonMinimum says otherwise", () => {
    const bullseye = parseConfig(raw("snapshot", { distribution: "debian/bullseye" })).settings.deb;
    expect([bullseye.pythonMinimum, bullseye.baseImage]).toEqual(["3.9", "debian:bullseye"]);
    expect(parseConfig(raw("snapshot", { distribution: "ubuntu/bionic" })).settings.deb.pythonMinimum).toBe("3.6");
    const pinned = parseConfig(raw("snapshot", { distribution: "debian/bullseye", pythonMinimum: "3.8" })).settings;
    expect(pinned.deb.pythonMinimum).toBe("3.8");
  });

  it("accepts loopback http packagecloud URLs (contract tests) and other valid values", () => {
    const { settings } = parseConfig(
      raw("snapshot", {
        packagecloudUrl: "http://127.0.0.1:8080",
        distribution: "debian/bookworm",
        imageNamespace: "my-org/ralph",
        registry: "localhost:5001",
      }),
    );
    expect(settings.packagecloud.url).toBe("http://127.0.0.1:8080");
    expect(settings.distribution).toEqual({ distro: "debian", release: "bookworm", name: "debian/bookworm" });
    expect(settings.deb.baseImage).toBe("debian:bookworm");
  });
});

describe("deb settings", () => {
  it("nodeAptSource comes with the key it is signed with, which must exist", () => {
    const key = resolve(tempDir(), "nodesource.asc");
    writeFileSync(key, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n");
    const source = "https://deb.nodesource.com/node_22.x nodistro main";
    const { settings } = parseConfig(raw("snapshot", { nodeAptSource: source, nodeAptKey: key }));
    expect(settings.deb.nodeAptSource).toEqual({ source, keyFile: key });
    expect(parseConfig(raw("snapshot")).settings.deb.nodeAptSource).toBeUndefined();

    const unsigned = problemsOf(raw("snapshot", { nodeAptSource: source }));
    expect(unsigned.problems.map((p) => [p.key, p.problem])).toEqual([
      ["ralph-release:nodeAptKey", "is missing: nodeAptSource and nodeAptKey go together"],
    ]);
    const wrong = problemsOf(raw("snapshot", { nodeAptSource: "deb.nodesource.com node_22.x", nodeAptKey: "/no/key" }));
    expect(wrong.problems.map((p) => p.key)).toEqual(["ralph-release:nodeAptSource", "ralph-release:nodeAptKey"]);
    expect(wrong.message).toContain('"deb.nodesource.com node_22.x" is not <url> <suite> <component>');
    expect(wrong.message).toContain("/no/key does not exist");
  });

  it("splits pipArgs, takes baseImage from config over the distribution, and refuses shell characters", () => {
    const { settings } = parseConfig(
      raw("snapshot", {
        pipArgs: " --no-index  --no-build-isolation ",
        baseImage: "localhost/debian:bookworm",
        builder: "host",
      }),
    );
    expect(settings.deb).toMatchObject({
      pipArgs: ["--no-index", "--no-build-isolation"],
      baseImage: "localhost/debian:bookworm",
      builder: "host",
    });
    const error = problemsOf(
      raw("snapshot", { pipArgs: "--index-url=$(curl evil)", builder: "vm", pythonMinimum: "3" }),
    );
    expect(error.problems.map((p) => p.key)).toEqual([
      "ralph-release:builder",
      "ralph-release:pythonMinimum",
      "ralph-release:pipArgs",
    ]);
  });
});

describe("destinations by mode", () => {
  const withToken = (stack: string, values: Record<string, string>, projectDir = "/nowhere") => ({
    ...raw(stack, { packagecloudToken: "pc-4711", ...values }, ["packagecloudToken"]),
    projectDir,
  });

  it("a snapshot pushes to its own packagecloud repository by default; a release to allegro/ralph", () => {
    const snapshot = parseConfig(withToken("snapshot", { debTargets: "packagecloud" })).settings;
    expect(snapshot.packagecloud.repository).toBe("allegro/ralph-snapshots");
    const release = parseConfig(
      withToken("release", {
        debTargets: "packagecloud",
        publishImages: "false",
        githubRelease: "false",
        packagecloudGpgKey: PACKAGECLOUD_KEY,
      }),
    ).settings;
    expect(release.packagecloud.repository).toBe("allegro/ralph");
  });

  it("a snapshot stack pointed at a release repository (the default, or Pulumi.release.yaml's) is refused with the fix", () => {
    const project = tempDir();
    writeFileSync(
      resolve(project, "Pulumi.release.yaml"),
      "config:\n  ralph-release:packagecloudRepository: acme/ralph-stable\n",
    );
    for (const repository of ["allegro/ralph", "acme/ralph-stable", "Allegro/Ralph"]) {
      const error = problemsOf(
        withToken(
          "snapshot-feature",
          { mode: "snapshot", debTargets: "packagecloud", packagecloudRepository: repository },
          project,
        ),
      );
      expect(error.problems).toEqual([
        {
          key: "ralph-release:packagecloudRepository",
          problem: `is ${repository}, where releases are published: a snapshot's version sorts above every release, so apt upgrade on a production host would install it`,
          fix: "pulumi config set --stack snapshot-feature packagecloudRepository allegro/ralph-snapshots (a repository for snapshots only), or take packagecloud out of debTargets.",
        },
      ]);
    }
    // Without packagecloud among its targets the setting publishes nothing, and is left alone.
    expect(() =>
      parseConfig(withToken("snapshot", { debTargets: "aptly", packagecloudRepository: "allegro/ralph" }, project)),
    ).not.toThrow();
  });
});

describe("configTable", () => {
  it("documents every key with its defaults", () => {
    const table = configTable();
    for (const key of Object.keys(KEYS)) expect(table).toContain(`| \`${key}\` |`);
    expect(table).toContain("snapshot `localhost:5000`, release `docker.io`");
  });
});

describe("README", () => {
  it("carries the configuration table exactly as the schema generates it", () => {
    const readme = readFileSync(resolve(__dirname, "../../../README.md"), "utf8");
    expect(readme).toContain(configTable());
  });
});

describe("distribution auto: the checkout's target", () => {
  const ralph = cloneRalph();
  ralph.checkout("--detach", BUNDLE_RELEASE);

  it("Ralph's real tree builds for bionic, with its Python, its pip pin and the archive's Node, each said where from", () => {
    const { settings } = parseConfig(raw("snapshot", { source: ralph.dir }));
    expect(settings.distribution.name).toBe("ubuntu/bionic");
    expect(settings.deb).toMatchObject({
      baseImage: "ubuntu:bionic",
      pythonMinimum: "3.6",
      pipVersion: "19.3.1",
      nodeMinimum: "archive",
    });
    expect(describeTarget(settings.target)).toBe(
      "ubuntu/bionic (debian/changelog), Python 3.6 (debian/rules), pip 19.3.1 (debian/rules), Node the archive's (debian/control)",
    );
    expect(settings.notices).toEqual([]);
  });

  it("the later Ralph builds for jammy; a tree that says nothing gets the defaults", () => {
    const later = parseConfig(raw("snapshot", { source: treeWithPackaging(LATER_RALPH_PACKAGING) })).settings;
    expect(describeTarget(later.target)).toBe(
      "ubuntu/jammy (debian/changelog), Python 3.10 (debian/control), pip as the venv has it (default: the venv's own), Node 22.0.0 (debian/control)",
    );
    const silent = parseConfig(raw("snapshot")).settings;
    expect(describeTarget(silent.target)).toBe(
      "ubuntu/jammy (default), Python 3.10 (default: ubuntu/jammy's python3), pip as the venv has it (default: the venv's own), Node 22.0.0 (default)",
    );
    expect(silent.deb.pipVersion).toBeUndefined();
  });

  it("an explicit distribution wins, without the tree's Python, pip and Node, and is warned about, naming both", () => {
    const { settings } = parseConfig(raw("snapshot", { source: ralph.dir, distribution: "ubuntu/jammy" }));
    expect(settings.distribution.name).toBe("ubuntu/jammy");
    expect(settings.deb.pythonMinimum).toBe("3.10");
    expect(settings.deb.pipVersion).toBeUndefined();
    expect(settings.notices).toEqual([
      "distribution ubuntu/jammy (config) is not what the checkout targets: its debian/changelog says ubuntu/bionic, its debian/rules Python 3.6. Fix: pulumi config rm --stack snapshot distribution (auto: the checkout's), unless this tree builds on ubuntu/jammy",
    ]);
    // Config over the tree, part by part.
    const pinned = parseConfig(
      raw("snapshot", { source: ralph.dir, pythonMinimum: "3.7", pipVersion: "20.0.2" }),
    ).settings;
    expect(describeTarget(pinned.target)).toMatch(
      /^ubuntu\/bionic \(debian\/changelog\), Python 3\.7 \(config\), pip 20\.0\.2 \(config\),/,
    );
    expect(() => parseConfig(raw("snapshot", { distribution: "ubuntu/xenial" }))).toThrow(
      /neither auto nor a supported distribution/,
    );
  });
});
