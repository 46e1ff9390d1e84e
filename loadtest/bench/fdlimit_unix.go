//go:build unix

package bench

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// checkFileLimit makes sure this process may open the connections c asks
// for (and, with its servers in this process, their end of each): Go
// raises the soft limit on open files to the hard limit at start-up, and
// this raises it again if something lowered it; beyond the hard limit it
// says so, rather than letting dials fail in the middle of a run. Server
// processes raise their own limit the same way.
func checkFileLimit(c *Config) error {
	conns := c.Connections.Max()
	if conns == 0 {
		return nil
	}
	need := uint64(conns) + 256 // the generator's own files, the reference, the servers' pipes
	if c.InProcess {
		need += uint64(conns)
	}
	var l unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &l); err != nil {
		return nil // nothing known: let the dials say
	}
	if l.Cur >= need {
		return nil
	}
	if l.Max >= need {
		l.Cur = need
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &l); err == nil {
			return nil
		}
	}
	return fmt.Errorf("connections %d need about %d open files, and this process may open %d (the hard limit, RLIMIT_NOFILE): raise it (ulimit -Hn, as root) or open fewer", conns, need, l.Max)
}
