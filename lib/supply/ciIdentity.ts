/** Whether keyless signing can run here; apart from the signer, so the program asks without loading Sigstore. Pure. */

/** An OIDC identity is there to sign with: GitHub Actions' (`id-token: write`) or SIGSTORE_ID_TOKEN. */
export const hasCiIdentity = (env: NodeJS.ProcessEnv) =>
  Boolean((env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) || env.SIGSTORE_ID_TOKEN);
