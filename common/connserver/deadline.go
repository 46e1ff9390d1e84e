package connserver

import (
	"net"
	"time"
)

// Deadline is the deadline of an operation that starts now and may take
// d: the zero time (none) when d is not positive.
func Deadline(d time.Duration) time.Time {
	if d <= 0 {
		return time.Time{}
	}
	return time.Now().Add(d)
}

// DeadlineWriter writes to Conn, giving every Write the deadline Timeout
// from its start, whatever its size (none when Timeout is not positive),
// so a peer that stops reading cannot hold a writer past it.
type DeadlineWriter struct {
	Conn    net.Conn
	Timeout time.Duration
}

func (w DeadlineWriter) Write(p []byte) (int, error) {
	w.Conn.SetWriteDeadline(Deadline(w.Timeout))
	return w.Conn.Write(p)
}
