package main

import (
	"fmt"
	"log/slog"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sys/unix"
)

// notifier speaks systemd's notify protocol (NOTIFY_SOCKET); without the
// socket every call is a no-op.
type notifier struct{ log *slog.Logger }

func newNotifier(log *slog.Logger) *notifier { return &notifier{log: log.With("component", "systemd")} }

func (n *notifier) notify(state string) {
	sent, err := sd.SdNotify(false, state)
	if err != nil {
		n.log.Warn("sd_notify failed", "state", state, "err", err)
		return
	}
	if sent {
		n.log.Debug("sd_notify", "state", state)
	}
}

// watchdogEvery is how often to ping: half of WatchdogSec, 0 when systemd
// does not watch this process.
func (n *notifier) watchdogEvery() time.Duration {
	d, err := sd.SdWatchdogEnabled(false)
	if err != nil {
		n.log.Warn("watchdog settings unreadable", "err", err)
		return 0
	}
	if d > 0 {
		n.log.Info("systemd watchdog enabled", "timeout", d)
	}
	return d / 2
}

// reloadingMessage is RELOADING=1 with the MONOTONIC_USEC systemd wants
// since v253 to tell reloads apart.
func reloadingMessage() string {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return fmt.Sprintf("%s\nMONOTONIC_USEC=%d", sd.SdNotifyReloading, ts.Nano()/1000)
}
