#!/usr/bin/env bash
# Installs the sandbox stand-in for the pgvector extension ("vector") into the
# local PostgreSQL's extension directory, because pgvector is not packaged in
# Debian 12. Idempotent. Never fails the caller: without root or a PostgreSQL
# install it says why and exits 0 (the migrations then fall back to real[]).
set -u

src_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../sandbox/pg-extension" && pwd)"
files=(vector.control vector--0.0.1.sql)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-vector-standin: not root; skipping (embeddings will use real[])"
  exit 0
fi

targets=()
if command -v pg_config >/dev/null 2>&1 && sharedir="$(pg_config --sharedir 2>/dev/null)" && [ -d "$sharedir/extension" ]; then
  targets+=("$sharedir/extension")
else
  for dir in /usr/share/postgresql/*/extension; do
    [ -d "$dir" ] && targets+=("$dir")
  done
fi

if [ "${#targets[@]}" -eq 0 ]; then
  echo "install-vector-standin: no PostgreSQL extension directory found; skipping"
  exit 0
fi

for dir in "${targets[@]}"; do
  for f in "${files[@]}"; do
    if cmp -s "$src_dir/$f" "$dir/$f"; then
      echo "install-vector-standin: $dir/$f already up to date"
    elif install -m 0644 "$src_dir/$f" "$dir/$f"; then
      echo "install-vector-standin: installed $dir/$f"
    else
      echo "install-vector-standin: could not write $dir/$f; skipping"
    fi
  done
done
exit 0
