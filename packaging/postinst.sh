#!/bin/sh
# roster postinst: the system user, its directories, the config readable by
# the service only; the service is enabled but not started (edit
# /etc/roster/roster.yaml first, then: systemctl start roster).
set -e
if [ "$1" = "configure" ] || [ "$1" = "1" ] || [ "$1" = "2" ]; then
  if command -v systemd-sysusers >/dev/null 2>&1; then
    systemd-sysusers /usr/lib/sysusers.d/roster.conf
  elif ! getent passwd roster >/dev/null; then
    adduser --system --group --home /var/lib/roster --no-create-home --shell /usr/sbin/nologin roster
  fi
  if command -v systemd-tmpfiles >/dev/null 2>&1; then
    systemd-tmpfiles --create /usr/lib/tmpfiles.d/roster.conf || true
  fi
  chgrp roster /etc/roster /etc/roster/roster.yaml
  chmod 0750 /etc/roster
  chmod 0640 /etc/roster/roster.yaml
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable roster.service >/dev/null || true
    # An upgrade restarts a running service: migrations run on start.
    systemctl try-restart roster.service || true
  fi
fi
exit 0
