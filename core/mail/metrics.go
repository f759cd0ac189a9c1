package mail

import (
	"fmt"
	"io"

	"github.com/rosterhq/roster/core"
)

// WriteMetrics writes the mail figures in the Prometheus text format, for
// the daemon's /metrics: the outbox by state and its depth (from
// core.Service.MailStats, shared by every replica) and this worker's
// counters since it started.
func WriteMetrics(w io.Writer, box core.MailStats, ws Stats) error {
	_, err := fmt.Fprintf(w, `# HELP roster_mail_queue_depth Mails waiting for delivery (queued or being sent).
# TYPE roster_mail_queue_depth gauge
roster_mail_queue_depth %d
# HELP roster_mail_outbox Outbox rows by state.
# TYPE roster_mail_outbox gauge
roster_mail_outbox{state="queued"} %d
roster_mail_outbox{state="sending"} %d
roster_mail_outbox{state="sent"} %d
roster_mail_outbox{state="failed"} %d
roster_mail_outbox{state="cancelled"} %d
# HELP roster_mail_sent_total Mails this process delivered.
# TYPE roster_mail_sent_total counter
roster_mail_sent_total %d
# HELP roster_mail_failed_total Mails this process gave up on (permanent refusal or retries exhausted).
# TYPE roster_mail_failed_total counter
roster_mail_failed_total %d
# HELP roster_mail_retried_total Transient delivery failures this process will retry.
# TYPE roster_mail_retried_total counter
roster_mail_retried_total %d
`, box.Queued+box.Sending, box.Queued, box.Sending, box.Sent, box.Failed, box.Cancelled, ws.Sent, ws.Failed, ws.Retried)
	return err
}
