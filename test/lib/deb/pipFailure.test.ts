import { describe, expect, it } from "vitest";
import { explainPipFailure } from "../../../lib/deb/pipFailure";

// As pip printed them building Ralph 20241023.1's requirements/prod.txt on debian/bullseye (Python 3.9).
const CONFLICT = `INFO: pip is looking at multiple versions of babel to determine which version is compatible with other requirements. This could take a while.
ERROR: Cannot install -r ./requirements/openstack.txt (line 12), -r ./requirements/openstack.txt (line 5), -r ./requirements/openstack.txt (line 9) and pbr==1.8.1 because these package versions have conflicting dependencies.

The conflict is caused by:
    The user requested pbr==1.8.1
    debtcollector 1.3.0 depends on pbr>=1.6
    keystoneauth1 2.3.0 depends on pbr>=1.6
    openstacksdk 1.5.0 depends on pbr!=2.1.0 and >=2.0.0

To fix this you could try to:
1. loosen the range of package versions you've specified
`;
const NO_WHEEL = `  Building wheel for Pillow (setup.py): started
  Building wheel for Pillow (setup.py): finished with status 'error'
  Running setup.py clean for Pillow
  ERROR: Failed building wheel for Pillow
Successfully built monotonic msgpack-python netifaces
Failed to build Pillow
Installing collected packages: six, pbr, prettytable
    Running setup.py install for Pillow: started
    Running setup.py install for Pillow: finished with status 'error'
`;

// The same failure in another run: pip names another pin first, and its ERROR line comes after the causes.
const CONFLICT_REORDERED = `INFO: pip is looking at multiple versions of babel to determine which version is compatible with other requirements. This could take a while.

The conflict is caused by:
    The user requested keystoneauth1==2.3.0
    openstacksdk 1.5.0 depends on keystoneauth1>=3.18.0

To fix this you could try to:
1. loosen the range of package versions you've specified

ERROR: Cannot install -r ./requirements/openstack.txt (line 5) and keystoneauth1==2.3.0 because these package versions have conflicting dependencies.
`;

describe("explainPipFailure", () => {
  it("names the conflicting pins and the resolver setting Ralph's own build relied on", () => {
    expect(explainPipFailure(CONFLICT)).toBe(
      "pip: Ralph's pins conflict under pip's resolver (The user requested pbr==1.8.1; debtcollector 1.3.0 depends on pbr>=1.6; " +
        "keystoneauth1 2.3.0 depends on pbr>=1.6; openstacksdk 1.5.0 depends on pbr!=2.1.0 and >=2.0.0). Ralph's own build " +
        "used pip 19's resolver, which installs them anyway: set pipArgs to --use-deprecated=legacy-resolver (pip 20.3 to 23).",
    );
  });

  it("reads the causes wherever pip's ERROR line lands", () => {
    expect(explainPipFailure(CONFLICT_REORDERED)).toMatch(
      /^pip: Ralph's pins conflict under pip's resolver \(The user requested keystoneauth1==2\.3\.0; openstacksdk 1\.5\.0 depends on keystoneauth1>=3\.18\.0\)\./,
    );
  });

  it("names a pin that has no wheel for the Python and could not be compiled", () => {
    expect(explainPipFailure(NO_WHEEL)).toMatch(
      /^pip: Pillow could not be built from source \(no wheel of the pinned version for this Python\), and Pillow failed to install\. Give the builder what it compiles against with extraBuildDepends/,
    );
  });

  it("says nothing about a failure that is not pip's", () => {
    expect(explainPipFailure("dh_install: missing files: contrib/common/usr/bin/ralphctl\n")).toBeUndefined();
  });
});
