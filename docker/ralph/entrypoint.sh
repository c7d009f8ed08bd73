#!/bin/sh
# Writes database and redis settings from the environment, then starts gunicorn ("start", the
# default) or runs any other ralphctl command given (e.g. `migrate`, `--version`).
set -eu

conf=/etc/ralph/conf.d
# Settings are read by sourcing these files (below, and by ralphctl): each value is written
# single-quoted, so whatever it holds (spaces, ; $ `) is data, never a command. The files hold
# passwords: 0640, root and Ralph's group, as ralph-core's postinst leaves database.conf.
write_setting() { # file NAME value
    if [ -n "$3" ]; then
        quoted=$(printf '%s' "$3" | sed "s/'/'\\\\''/g")
        (
            umask 027
            grep -v "^$2=" "$1" 2>/dev/null > "$1.new" || true
            printf "%s='%s'\n" "$2" "$quoted" >> "$1.new"
        )
        chown root:ralphsrv "$1.new" 2>/dev/null || true
        mv "$1.new" "$1"
    fi
}
for name in DATABASE_ENGINE DATABASE_NAME DATABASE_USER DATABASE_PASSWORD DATABASE_HOST DATABASE_PORT; do
    eval "value=\${$name:-}"
    write_setting "$conf/database.conf" "$name" "$value"
done
for name in REDIS_HOST REDIS_PORT REDIS_DB REDIS_PASSWORD; do
    eval "value=\${$name:-}"
    write_setting "$conf/redis.conf" "$name" "$value"
done

if [ "${1:-start}" = "start" ]; then
    set -a
    . /etc/ralph/ralph.conf
    for file in "$conf"/*.conf; do . "$file"; done
    set +a
    exec /opt/ralph/ralph-core/bin/gunicorn --config /var/local/ralph/gunicorn.ini ralph.wsgi
fi
exec /usr/bin/ralphctl "$@"
