package admit_test

import (
	"bufio"
	"fmt"
	"net"

	"github.com/igbank/igbank/common/admit"
)

// A server puts the admission on its listener and tells each connection's
// admit.Conn when a call begins and ends, so that only idle connections
// are reclaimed when it is full.
func Example() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	a := admit.New(admit.Config{MaxConns: 1024})
	al := a.Listener(l)
	defer al.Close()
	go func() {
		for {
			nc, err := al.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				c := admit.Of(nc)
				br := bufio.NewReader(nc)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					c.Begin() // a whole request is in: not idle
					fmt.Fprintf(nc, "echo %s", line)
					c.End()
				}
			}()
		}
	}()

	nc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		panic(err)
	}
	defer nc.Close()
	fmt.Fprintln(nc, "hello")
	reply, _ := bufio.NewReader(nc).ReadString('\n')
	fmt.Print(reply)
	fmt.Println(a.Stats().Conns, "connection admitted")
	// Output:
	// echo hello
	// 1 connection admitted
}
