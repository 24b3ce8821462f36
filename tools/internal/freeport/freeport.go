// Package freeport picks loopback ports for servers that tests start.
//
// Asking the kernel for port 0 gives a port from the ephemeral range, the
// same range that outgoing connections take their local ports from. Under
// a load test thousands of those come and go, so a port picked that way can
// be taken again before the server binds it. The ports here come from just
// below that range, where no outgoing connection lands.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
)

// Below Linux's default ephemeral range, 32768–60999, and above the ports
// that well-known services use.
const low, high = 20000, 32768

// Addr returns a loopback address whose port nothing listens on now.
func Addr() (string, error) {
	var err error
	for range 100 {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(low+rand.IntN(high-low)))
		var ln net.Listener
		if ln, err = net.Listen("tcp", addr); err == nil {
			ln.Close()
			return addr, nil
		}
	}
	return "", fmt.Errorf("no free loopback port between %d and %d: %w", low, high, err)
}
