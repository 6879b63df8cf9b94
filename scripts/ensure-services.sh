#!/usr/bin/env bash
# Makes sure what ml-rollback's sandbox and tests need is installed and running on Debian:
# PostgreSQL, Redis, pg_dump/pg_restore, alembic (Debian's python3-alembic), the `vector` stand-in
# extension. Idempotent: installs only what is missing, starts only what is stopped.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
log() { printf '[ensure-services] %s\n' "$*"; }

need=()
command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
command -v pg_dump >/dev/null 2>&1 || need+=(postgresql-client)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
/usr/bin/python3 -c 'import alembic' >/dev/null 2>&1 || need+=(python3-alembic)
/usr/bin/python3 -c 'import psycopg2' >/dev/null 2>&1 || need+=(python3-psycopg2)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    log "missing: ${need[*]} — install them (as root: apt-get install ${need[*]})"; exit 1
  fi
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  log "starting PostgreSQL"
  for v in $(ls /etc/postgresql 2>/dev/null); do
    pg_ctlcluster --skip-systemctl-redirect "$v" main start 2>/dev/null || pg_ctlcluster "$v" main start || true
  done
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  pg_isready -h 127.0.0.1 -p 5432 -q || { log "PostgreSQL did not start"; exit 1; }
fi
# Local trust auth is Debian's default for the socket; the sandbox and tests connect over TCP as postgres.
if ! psql "postgresql://postgres@127.0.0.1:5432/postgres" -Atqc 'SELECT 1' >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    log "allowing local TCP connections for postgres (trust on 127.0.0.1 only)"
    for hba in /etc/postgresql/*/main/pg_hba.conf; do
      grep -q '^host all all 127.0.0.1/32 trust' "$hba" || sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    done
    for v in $(ls /etc/postgresql); do pg_ctlcluster "$v" main reload 2>/dev/null || true; done
  fi
  psql "postgresql://postgres@127.0.0.1:5432/postgres" -Atqc 'SELECT 1' >/dev/null || { log "cannot connect to PostgreSQL as postgres@127.0.0.1"; exit 1; }
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  log "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --dir /tmp --logfile /tmp/ml-rollback-redis.log
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.2; done
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null || { log "Redis did not start"; exit 1; }
fi

bash "$here/install-vector-standin.sh" >/dev/null || true

# Optional: Debian's Alertmanager, for the one test that runs the real thing (it is skipped without it).
if [ ! -x /usr/bin/prometheus-alertmanager ] && [ "$(id -u)" -eq 0 ] \
  && apt-cache policy prometheus-alertmanager 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  log "installing prometheus-alertmanager (optional, for test/incidents/realAlertmanager.test.ts)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus-alertmanager >/dev/null \
    || log "prometheus-alertmanager did not install; its test will be skipped"
fi
log "PostgreSQL, Redis, pg_dump, alembic: ready"
