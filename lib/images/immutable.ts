/**
 * A release's version tag is written once. Registries let anyone move a tag; this module decides,
 * from what the registry serves and what this stack recorded pushing, whether a tag may be pushed,
 * is already this stack's (adopt it, push nothing), or belongs to another build (refuse). Pure.
 */
import { UserError } from "../errors";

export class PublishedTagError extends UserError {}

export type TagDecision =
  /** The tag does not exist yet: push. */
  | { readonly kind: "push" }
  /** The tag is what this stack pushed: nothing to push. */
  | { readonly kind: "adopt"; readonly digest: string };

export interface VersionTagState {
  /** `<repository>:<version>`. */
  readonly reference: string;
  /** What the registry serves for it now, if anything. */
  readonly published?: string;
  /** What this stack recorded pushing there (its state, or the record beside the deb), if anything. */
  readonly recorded?: string;
  /** Where this stack's record of the push is kept on this machine, for the message. */
  readonly recordFile: string;
}

/** The decision for one version tag; a tag published by another build is an error naming both digests. */
export function decideVersionTag(state: VersionTagState): TagDecision {
  const { reference, published, recorded } = state;
  if (published === undefined) return { kind: "push" };
  if (published === recorded) return { kind: "adopt", digest: published };
  const whose =
    recorded === undefined
      ? "this stack has no record of pushing it (a fresh state, or a release made elsewhere)"
      : `this stack recorded pushing ${recorded}`;
  throw new PublishedTagError(
    `${reference} is already published as ${published}, and ${whose}.\n` +
      "  A release's version tag is never replaced: users may already run that image.\n" +
      "  fix: release a new patch version (npm run release-new-version), or, if the published image is " +
      `this release's, restore this stack's state (pulumi stack import) or its record file ${state.recordFile}` +
      (recorded === undefined
        ? ""
        : `, or, if the tag was moved by mistake, put it back: skopeo copy docker://${reference.slice(0, reference.lastIndexOf(":"))}@${recorded} docker://${reference}`),
  );
}

/** What a push step records beside the deb: the digest each version tag was given. */
export interface PushRecord {
  readonly reference: string;
  readonly digest: string;
}

/** `<repository>@<digest>` → digest, when it names `repository`. */
export function digestOfRef(ref: string | undefined, repository: string): string | undefined {
  if (!ref) return undefined;
  const at = ref.lastIndexOf("@");
  return at > 0 && ref.slice(0, at) === repository ? ref.slice(at + 1) : undefined;
}
