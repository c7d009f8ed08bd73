import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { directoryDigest } from "../../../lib/deb/build";
import { contextDigest } from "../../../lib/images/build";
import { removeTempDirs, tempDir } from "../../support/gitRepo";

afterAll(removeTempDirs);

/** An inkpy-like checkout: its Dockerfile, its code, and what a developer's copy also holds. */
function checkout(): string {
  const dir = tempDir("ralph-release-inkpy-");
  writeFileSync(join(dir, "Dockerfile"), "FROM scratch\nCOPY inkpy /inkpy\n");
  mkdirSync(join(dir, "inkpy"));
  writeFileSync(join(dir, "inkpy", "server.py"), "print('inkpy')\n");
  return dir;
}

describe("an image's context digest", () => {
  it("without a .dockerignore is every file's, as before: nothing built before is built again", () => {
    const dir = checkout();
    expect(contextDigest(dir, join(dir, "Dockerfile"))).toBe(directoryDigest(dir));
  });

  it("leaves out what .dockerignore leaves out, keeps its exceptions, and changes with the file itself", () => {
    const dir = checkout();
    writeFileSync(join(dir, ".dockerignore"), "# local only\n**/*.pyc\nvenv\ndocs/*\n!docs/inkpy.1\nDockerfile\n");
    const dockerfile = join(dir, "Dockerfile");
    const first = contextDigest(dir, dockerfile);

    mkdirSync(join(dir, "venv", "lib"), { recursive: true });
    writeFileSync(join(dir, "venv", "lib", "site.py"), "x\n");
    writeFileSync(join(dir, "inkpy", "server.cpython-311.pyc"), "compiled\n");
    mkdirSync(join(dir, "docs"));
    writeFileSync(join(dir, "docs", "notes.md"), "draft\n");
    expect(contextDigest(dir, dockerfile), "files the build never sees").toBe(first);

    writeFileSync(join(dir, "docs", "inkpy.1"), ".TH inkpy\n");
    const withException = contextDigest(dir, dockerfile);
    expect(withException, "an exception is sent to the build").not.toBe(first);

    // Docker reads the Dockerfile even where .dockerignore names it.
    writeFileSync(dockerfile, "FROM scratch\nCOPY inkpy /srv/inkpy\n");
    const newRecipe = contextDigest(dir, dockerfile);
    expect(newRecipe).not.toBe(withException);

    writeFileSync(join(dir, "inkpy", "server.py"), "print('inkpy 2')\n");
    const newCode = contextDigest(dir, dockerfile);
    expect(newCode, "the code").not.toBe(newRecipe);

    writeFileSync(join(dir, ".dockerignore"), "**/*.pyc\nvenv\ndocs/*\n!docs/inkpy.1\n");
    expect(contextDigest(dir, dockerfile), "the rules themselves").not.toBe(newCode);
  });

  it("counts a Dockerfile in a directory .dockerignore leaves out, and matches names as Docker does, by case", () => {
    const dir = checkout();
    mkdirSync(join(dir, "docker"));
    const dockerfile = join(dir, "docker", "Dockerfile");
    writeFileSync(dockerfile, "FROM scratch\n");
    writeFileSync(join(dir, ".dockerignore"), "docker\ndocs\n");
    const first = contextDigest(dir, dockerfile);
    writeFileSync(dockerfile, "FROM scratch\nCOPY inkpy /inkpy\n");
    const changed = contextDigest(dir, dockerfile);
    expect(changed, "the recipe").not.toBe(first);
    writeFileSync(join(dir, "docker", "notes.md"), "left out\n");
    expect(contextDigest(dir, dockerfile), "beside the recipe, left out").toBe(changed);
    mkdirSync(join(dir, "Docs"));
    writeFileSync(join(dir, "Docs", "inkpy.md"), "sent: docs is not Docs\n");
    expect(contextDigest(dir, dockerfile)).not.toBe(changed);
  });

  it("counts a Dockerfile kept outside the context", () => {
    const dir = checkout();
    const outside = join(tempDir("ralph-release-recipe-"), "inkpy.Dockerfile");
    writeFileSync(outside, "FROM scratch\n");
    const first = contextDigest(dir, outside);
    expect(first).not.toBe(directoryDigest(dir));
    writeFileSync(outside, "FROM scratch\nCOPY inkpy /inkpy\n");
    expect(contextDigest(dir, outside)).not.toBe(first);
  });
});
