/** The names of what the supply-chain step writes beside the deb, shared by it and `verify`. Pure. */

export const FILES = {
  provenance: "provenance.intoto.json",
  provenanceBundle: "provenance.sigstore.json",
  sigstoreKey: "sigstore.pub",
  debSbom: (debFile: string) => debFile.replace(/\.deb$/, ".cdx.json"),
  imageSbom: (image: string) => `${image}.cdx.json`,
  imageBundle: (image: string) => `${image}.sigstore.json`,
} as const;

/** Subject annotation: the image was built on the build machine and never pushed. */
export const LOCAL_ONLY = "ralph-release/local-only";
