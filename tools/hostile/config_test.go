package hostile

import (
	"net"
	"strings"
	"testing"
	"time"
)

// A mistyped LISTEN_ADDR must stop the server before it serves anything,
// with a message that names the setting, so that the mistake shows in
// Radix's log instead of a server listening somewhere unexpected.
func TestBadListenAddrStopsTheServer(t *testing.T) {
	bad := []struct{ name, value string }{
		{"no port", "127.0.0.1"},
		{"only a port number", "5000"},
		{"empty port", "127.0.0.1:"}, // net.Listen would pick any free port
		{"port not a number", "127.0.0.1:http"},
		{"port out of range", "127.0.0.1:65536"},
		{"negative port", "127.0.0.1:-1"},
		{"too many colons", "127.0.0.1:50:00"},
		{"garbage", "☃ not an address"},
	}
	for _, step := range radixSteps {
		for _, tc := range bad {
			t.Run(step+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				s := launch(t, step, tc.value)
				if code := s.wait(t, 30*time.Second); code == 0 {
					t.Errorf("LISTEN_ADDR=%q: exit code 0, want non-zero", tc.value)
				}
				checkRefusedStart(t, s, "LISTEN_ADDR")
			})
		}
	}
}

// A port that another program holds must also stop the server, saying so.
func TestPortInUseStopsTheServer(t *testing.T) {
	for _, step := range radixSteps {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			taken, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer taken.Close()
			s := launch(t, step, taken.Addr().String())
			if code := s.wait(t, 30*time.Second); code == 0 {
				t.Errorf("port in use: exit code 0, want non-zero")
			}
			checkRefusedStart(t, s, taken.Addr().String()+": bind: address already in use")
		})
	}
}

// checkRefusedStart checks that the server logged one error containing
// want and never said it was serving.
func checkRefusedStart(t *testing.T, s *server, want string) {
	t.Helper()
	var errs []string
	for _, l := range s.logs(t) {
		if l.Msg == "serving" {
			t.Errorf("the server started serving: %s", l.raw)
		}
		if l.Level == "ERROR" {
			errs = append(errs, l.Error)
		}
	}
	if len(errs) != 1 || !strings.Contains(errs[0], want) {
		t.Errorf("logged errors %q, want one that says %q", errs, want)
	}
}
