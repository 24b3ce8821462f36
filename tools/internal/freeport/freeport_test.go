package freeport

import (
	"net"
	"strconv"
	"testing"
)

func TestAddrIsFreeAndOutsideTheEphemeralRange(t *testing.T) {
	addr, err := Addr()
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(addr)
	if n, _ := strconv.Atoi(port); host != "127.0.0.1" || n < low || n >= high {
		t.Errorf("Addr() = %s, want 127.0.0.1 and a port in [%d, %d)", addr, low, high)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening on %s: %v", addr, err)
	}
	ln.Close()
}
