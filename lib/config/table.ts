/** README's configuration table, generated from the key table so the two cannot drift. Pure. */
import { KEYS, type KeySpec } from "./keys";

export function configTable(): string {
  const show = (v: string | boolean | undefined) => (v === undefined ? "—" : `\`${v}\``);
  const rows = Object.entries(KEYS).map(([key, s]: [string, KeySpec]) => {
    const d = s.default;
    const def = !d
      ? "—"
      : d.snapshot === d.release
        ? show(d.snapshot)
        : `snapshot ${show(d.snapshot)}, release ${show(d.release)}`;
    return `| \`${key}\` | ${s.kind} | ${def} | ${s.doc} |`;
  });
  return ["| key (`ralph-release:`…) | type | default | meaning |", "| --- | --- | --- | --- |", ...rows].join("\n");
}
