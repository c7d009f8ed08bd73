import { describe, expect, it } from "vitest";
import { indexAccessForContainer, parsePipConfigList } from "../../../lib/deb/indexAccess";

const PIP_CONFIG_LIST = [
  ":env:.cert='/etc/ssl/certs/ca-certificates.crt'",
  ":env:.find-links='/opt/wheels'",
  "global.index-url='https://pypi.example.com/simple'",
  "global.timeout='60'",
].join("\n");

describe("indexAccessForContainer", () => {
  it("carries pip's index, timeout and CA bundle, the bundle copied in, host-only paths left out", () => {
    const access = indexAccessForContainer({}, parsePipConfigList(PIP_CONFIG_LIST), {});
    expect(access.env).toEqual({
      PIP_INDEX_URL: "https://pypi.example.com/simple",
      PIP_CERT: "/run/ralph-release/ca/1.pem",
      PIP_TIMEOUT: "60",
    });
    expect(access.files).toEqual([
      { host: "/etc/ssl/certs/ca-certificates.crt", container: "/run/ralph-release/ca/1.pem" },
    ]);
  });

  it("takes PIP_* variables over pip's config files, as pip does", () => {
    const access = indexAccessForContainer(
      { PIP_INDEX_URL: "https://mirror.example.org/simple", PIP_TRUSTED_HOST: "mirror.example.org" },
      parsePipConfigList(PIP_CONFIG_LIST),
      {},
    );
    expect(access.env.PIP_INDEX_URL).toBe("https://mirror.example.org/simple");
    expect(access.env.PIP_TRUSTED_HOST).toBe("mirror.example.org");
  });

  it("gives npm its registry and CA; one bundle used by both is copied once", () => {
    const access = indexAccessForContainer(
      { NODE_EXTRA_CA_CERTS: "/etc/ssl/certs/ca-certificates.crt", PIP_CERT: "/etc/ssl/certs/ca-certificates.crt" },
      {},
      { registry: "https://npm.example.com/" },
    );
    expect(access.env).toEqual({
      PIP_CERT: "/run/ralph-release/ca/1.pem",
      npm_config_registry: "https://npm.example.com/",
      NODE_EXTRA_CA_CERTS: "/run/ralph-release/ca/1.pem",
      npm_config_cafile: "/run/ralph-release/ca/1.pem",
    });
    expect(access.files).toHaveLength(1);
  });

  it("a machine with no settings gives the container none", () => {
    expect(indexAccessForContainer({}, {}, {})).toEqual({ env: {}, files: [] });
  });
});
