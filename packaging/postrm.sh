#!/bin/sh
# The database in /var/lib/roster and the config are kept on remove (and on
# purge: delete /var/lib/roster yourself once you have a backup).
set -e
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
fi
exit 0
