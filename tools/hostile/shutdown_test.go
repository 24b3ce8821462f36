package hostile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestShutdownFinishesRequestsInFlight sends SIGTERM, as Kubernetes does,
// while several requests are still uploading their bodies. http.Server's
// Shutdown waits for requests whose headers it has read; it closes idle
// kept-alive connections at once, and it drops a request whose headers
// arrive after it began, as it would refuse a new connection. So the slow
// requests here are ones whose headers are in and whose bodies are not.
func TestShutdownFinishesRequestsInFlight(t *testing.T) {
	for _, step := range radixSteps {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			s := start(t, step)
			header, want := home(step)

			var uploads []*upload
			for range 4 {
				uploads = append(uploads, startUpload(t, s, header))
			}
			idle := keptAlive(t, s)

			s.signal(t, syscall.SIGTERM)
			s.waitLog(t, "shutting down")
			if err := waitRefused(s.addr); err != nil {
				t.Error(err)
			}
			if err := waitClosed(idle); err != nil {
				t.Errorf("an idle kept-alive connection: %v", err)
			}
			if !s.running() {
				t.Fatalf("the server exited with requests in flight: %v", s.err)
			}

			for i, u := range uploads {
				status, body, err := u.finish()
				if err != nil || status != http.StatusOK || !strings.Contains(body, want) {
					t.Errorf("request %d in flight at SIGTERM: %d %q, %v; want 200 and a body with %q", i, status, body, err, want)
				}
			}
			if code := s.wait(t, 30*time.Second); code != 0 {
				t.Errorf("exit code %d after SIGTERM, want 0", code)
			}
			var msgs []string
			for _, l := range s.logs(t) {
				msgs = append(msgs, l.Msg)
				if l.Level == "ERROR" {
					t.Errorf("error in the log: %s", l.raw)
				}
			}
			if len(msgs) < 2 || msgs[len(msgs)-1] != "stopped" {
				t.Errorf("log messages %q, want the last to be \"stopped\"", msgs)
			}
		})
	}
}

// upload is a GET request whose body is still arriving: its headers and
// half its body are sent. Until the rest arrives the server cannot answer,
// because net/http reads what is left of a body before it writes a response.
type upload struct {
	conn net.Conn
	rest []byte
}

func startUpload(t *testing.T, s *server, header http.Header) *upload {
	t.Helper()
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	body := bytes.Repeat([]byte("x"), 1024)
	var req bytes.Buffer
	fmt.Fprintf(&req, "GET / HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", s.addr, len(body))
	if err := header.Write(&req); err != nil {
		t.Fatal(err)
	}
	req.WriteString("\r\n")
	req.Write(body[:len(body)/2])
	if _, err := conn.Write(req.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := waitRead(conn); err != nil {
		t.Fatal(err)
	}
	return &upload{conn: conn, rest: body[len(body)/2:]}
}

// finish sends the rest of the body and reads the response.
func (u *upload) finish() (int, string, error) {
	if err := u.conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return 0, "", err
	}
	if _, err := u.conn.Write(u.rest); err != nil {
		return 0, "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(u.conn), nil)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// keptAlive returns a connection that has been answered once and is now
// idle, as a browser keeps one open.
func keptAlive(t *testing.T, s *server) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", s.addr)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.Close {
		t.Fatal("the server did not keep the connection alive")
	}
	return conn
}

// waitRefused waits up to 10 seconds until nothing accepts connections on
// addr any more.
func waitRefused(addr string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.Dial("tcp", addr)
		if errors.Is(err, syscall.ECONNREFUSED) {
			return nil
		}
		if err == nil {
			conn.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("a new connection to %s after SIGTERM: %v, want it refused", addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitClosed waits up to 10 seconds for the server to close conn.
func waitClosed(conn net.Conn) error {
	if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return err
	}
	n, err := conn.Read(make([]byte, 1))
	if n == 0 && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
		return nil
	}
	return fmt.Errorf("read %d bytes, %v; want the server to close it", n, err)
}

// waitRead waits up to 30 seconds until the server has taken in everything
// sent on conn so far: its receive queue for the connection, in
// /proc/net/tcp, is empty. A request whose headers are read after Shutdown
// has begun is dropped, so the test must not signal before that.
func waitRead(conn net.Conn) error {
	server, client := hexAddr(conn.RemoteAddr()), hexAddr(conn.LocalAddr())
	deadline := time.Now().Add(30 * time.Second)
	for {
		queued, err := receiveQueue(server, client)
		if err != nil {
			return err
		}
		if queued == 0 {
			// Reading and parsing the headers is one step of the
			// server's connection goroutine; give it time to finish.
			time.Sleep(50 * time.Millisecond)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the server has not read %d bytes of the request after 30 s", queued)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// receiveQueue returns how many bytes wait to be read by the program that
// owns the IPv4 socket from local to remote (as /proc/net/tcp spells them).
func receiveQueue(local, remote string) (int64, error) {
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		// sl local_address rem_address st tx_queue:rx_queue ...
		f := strings.Fields(line)
		if len(f) > 4 && f[1] == local && f[2] == remote {
			_, rx, _ := strings.Cut(f[4], ":")
			return strconv.ParseInt(rx, 16, 64)
		}
	}
	return 0, fmt.Errorf("no socket %s -> %s in /proc/net/tcp", local, remote)
}

// hexAddr spells an IPv4 TCP address as /proc/net/tcp does: the address as
// a little-endian hex number, a colon, the port in hex.
func hexAddr(a net.Addr) string {
	tcp := a.(*net.TCPAddr)
	ip := tcp.IP.To4()
	return fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], tcp.Port)
}
