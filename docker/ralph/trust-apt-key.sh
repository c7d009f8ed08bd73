#!/bin/sh
# trust-apt-key <downloaded key file> <pinned fingerprint> <keyring to write>
#
# A release image installs ralph-core from an apt repository whose key it downloads: the key is
# trusted only when the file holds exactly one primary key and its fingerprint is the one the
# pipeline pinned (aptlyGpgKey's, or packagecloudGpgKey). Whoever could swap the packages on the
# way could swap the key beside them; they cannot make it match the pin.
set -eu
file=$1
pinned=$(printf '%s' "$2" | tr -d ' ' | tr a-f A-F)
keyring=$3
if [ -z "$pinned" ]; then
  echo "trust-apt-key: no fingerprint is pinned for this repository's key: not trusted (set packagecloudGpgKey, or aptlyGpgKey to the key's full fingerprint)" >&2
  exit 1
fi
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
gpg --homedir "$home" --batch --quiet --import "$file" 2>/dev/null || true
found=$(gpg --homedir "$home" --batch --with-colons --list-keys 2>/dev/null |
  awk -F: '$1 == "pub" { primary = 1; next } primary && $1 == "fpr" { print $10; primary = 0 }')
if [ "$found" != "$pinned" ]; then
  echo "trust-apt-key: the repository's key has the fingerprint(s) [$(echo $found)], not the pinned $pinned: not trusted" >&2
  exit 1
fi
gpg --homedir "$home" --batch --export "$pinned" > "$keyring"
