#!/bin/sh
# Runs "$@" where no network namespace can be made: inside a user namespace whose limits
# allow no further namespace. `bulkhead compile --no-kernel-check` then takes the path of a
# machine without namespaces (the kernel check skipped), even when run as root. Where no
# user namespace can be made either, no network namespace can be made as a user: run as is.
if ! unshare --user --map-root-user true 2>/dev/null; then
    exec "$@"
fi
exec unshare --user --map-root-user sh -c \
    'echo 0 >/proc/sys/user/max_net_namespaces && echo 0 >/proc/sys/user/max_user_namespaces && exec "$@"' \
    sh "$@"
