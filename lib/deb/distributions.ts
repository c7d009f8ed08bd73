/**
 * What differs between the distributions ralph-core is built for. Everything distribution-specific in
 * the recipes comes from here (rendered into debian/control), not from literals in debian/.
 */
export interface DistributionProfile {
  /** `<distro>/<release>` as packagecloud names it. */
  readonly name: string;
  /** Base image of the builder and of the clean install test, unless config overrides it. */
  readonly baseImage: string;
  /** The distribution's python3: the builder's Python and the control file's minimum, unless config says otherwise. */
  readonly python: string;
  /** debhelper compatibility level its debhelper supports. */
  readonly debhelperCompat: number;
  /** The package putting wheel (or at least pip's) .whl files in /usr/share/python-wheels. */
  readonly wheelsPackage: string;
  /** Build dependency providing mysql_config for mysqlclient. */
  readonly mysqlDev: string;
  /** Runtime MySQL client library. */
  readonly mysqlRuntime: string;
  /** Further runtime dependencies (python3-distutils until Python 3.12 dropped it). */
  readonly extraRuntime: readonly string[];
  /** The nodejs its own archive has: a front end needing more needs another apt source (nodeAptSource). */
  readonly nodejs: string;
  /** A PPA the builder adds for what the archive lacks (docker/deb-builder-ppa). */
  readonly builderPpa?: string;
}

const PROFILES: Readonly<Record<string, DistributionProfile>> = {
  // Ralph's own target up to 20241023.1, built as Ralph's docker/Dockerfile-deb does: the archive's
  // debhelper 11 (compat 11 has everything debian/rules uses), dh-virtualenv from Ralph's PPA (the
  // archive's 1.0 lacks --upgrade-pip-to and --builtin-venv), the archive's nodejs and npm.
  "ubuntu/bionic": {
    name: "ubuntu/bionic",
    baseImage: "ubuntu:bionic",
    python: "3.6",
    debhelperCompat: 11,
    builderPpa: "ppa:jyrki-pulliainen/dh-virtualenv",
    wheelsPackage: "python-pip-whl",
    mysqlDev: "libmysqlclient-dev",
    mysqlRuntime: "libmysqlclient20",
    extraRuntime: ["python3-distutils"],
    nodejs: "8.10.0",
  },
  "ubuntu/jammy": {
    name: "ubuntu/jammy",
    baseImage: "ubuntu:jammy",
    python: "3.10",
    debhelperCompat: 13,
    wheelsPackage: "python3-wheel-whl",
    mysqlDev: "libmysqlclient-dev",
    mysqlRuntime: "libmysqlclient21",
    extraRuntime: ["python3-distutils"],
    nodejs: "12.22.9",
  },
  "ubuntu/noble": {
    name: "ubuntu/noble",
    baseImage: "ubuntu:noble",
    python: "3.12",
    debhelperCompat: 13,
    wheelsPackage: "python3-wheel-whl",
    mysqlDev: "libmysqlclient-dev",
    mysqlRuntime: "libmysqlclient21",
    extraRuntime: [],
    nodejs: "18.19.1",
  },
  "debian/bullseye": {
    name: "debian/bullseye",
    baseImage: "debian:bullseye",
    python: "3.9",
    debhelperCompat: 13,
    wheelsPackage: "python-pip-whl",
    mysqlDev: "default-libmysqlclient-dev",
    mysqlRuntime: "libmariadb3",
    extraRuntime: ["python3-distutils"],
    nodejs: "12.22.12",
  },
  "debian/bookworm": {
    name: "debian/bookworm",
    baseImage: "debian:bookworm",
    python: "3.11",
    debhelperCompat: 13,
    wheelsPackage: "python3-wheel-whl",
    mysqlDev: "default-libmysqlclient-dev",
    mysqlRuntime: "libmariadb3",
    extraRuntime: ["python3-distutils"],
    nodejs: "18.20.4",
  },
};

export const SUPPORTED_DISTRIBUTIONS = Object.keys(PROFILES);

export function distributionProfile(name: string): DistributionProfile | undefined {
  return PROFILES[name];
}

export interface ControlValues {
  readonly profile: DistributionProfile;
  readonly pythonMinimum: string;
  /** nodejs minimum (`archive`: the distribution's own, unversioned), when the tree has a front end to build; undefined leaves node out. */
  readonly nodeMinimum?: string;
  /** Further build and runtime dependencies from config (e.g. headers for a pin built from source). */
  readonly extraBuildDepends?: readonly string[];
  readonly extraDepends?: readonly string[];
}

/** Renders debian/control.in. Unknown placeholders are an error, so a typo cannot ship. */
export function renderControl(template: string, values: ControlValues): string {
  const { profile } = values;
  const substitutions: Record<string, string> = {
    PYTHON_MINIMUM: values.pythonMinimum,
    DEBHELPER_COMPAT: String(profile.debhelperCompat),
    WHEELS_PACKAGE: profile.wheelsPackage,
    MYSQL_DEV: profile.mysqlDev,
    // `archive`: whatever nodejs the distribution has (its version is `8.10.0~dfsg-…`, below a `>= 8.10.0`).
    NODE_BUILD_DEPENDS: values.nodeMinimum
      ? `,\n               nodejs${values.nodeMinimum === "archive" ? "" : ` (>= ${values.nodeMinimum})`},\n               npm`
      : "",
    EXTRA_BUILD_DEPENDS: (values.extraBuildDepends ?? []).map((p) => `,\n               ${p}`).join(""),
    MYSQL_RUNTIME: profile.mysqlRuntime,
    EXTRA_RUNTIME_DEPENDS: [...profile.extraRuntime, ...(values.extraDepends ?? [])]
      .map((p) => `,\n         ${p}`)
      .join(""),
  };
  return template.replace(/@([A-Z_]+)@/g, (_, key: string) => {
    const value = substitutions[key];
    if (value === undefined) throw new Error(`debian/control.in: unknown placeholder @${key}@`);
    return value;
  });
}

/** The Build-Depends field of a rendered control file, as one line for the builder's `apt-get build-dep`. */
export function buildDepends(control: string): string {
  const field = buildDependsField(control);
  if (field === undefined) throw new Error("debian/control has no Build-Depends field");
  return field;
}

/** The same, or undefined for a control file without the field (a checkout's own, read for hints). */
export function buildDependsField(control: string): string | undefined {
  return /^Build-Depends:((?:.*)(?:\n[ \t].*)*)/m.exec(control)?.[1].replace(/\s+/g, " ").trim();
}

/** The Maintainer field of a control file. */
export function maintainer(control: string): string {
  const match = /^Maintainer:\s*(.+)$/m.exec(control);
  if (!match) throw new Error("debian/control has no Maintainer field");
  return match[1].trim();
}
