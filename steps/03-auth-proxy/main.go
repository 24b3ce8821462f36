// Command hello is step 3 of the tutorial: the step 2 server behind
// oauth2-proxy, which signs visitors in with Microsoft Entra ID. The proxy
// tells the server who signed in through X-Forwarded-* request headers; the
// server shows them on its page and logs the visitor's address instead of
// the proxy's.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// defaultAddr has no host, so the server accepts connections on every
// interface: inside a container, localhost is unreachable from outside.
const defaultAddr = ":5000"

// shutdownTimeout bounds how long in-flight requests may take to finish
// after SIGTERM; Kubernetes kills the container 30 seconds after sending it.
const shutdownTimeout = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	if err := run(ctx, logger, os.Getenv("LISTEN_ADDR")); err != nil {
		logger.Error("server stopped", "error", err)
		os.Exit(1)
	}
}

// run serves on addr, or on defaultAddr when addr is empty, until ctx ends.
func run(ctx context.Context, logger *slog.Logger, addr string) error {
	addr, err := listenAddr(addr)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return serve(ctx, ln, newServer(logger), logger)
}

// listenAddr checks addr before anything listens, so that a typo fails the
// start instead of serving somewhere unexpected.
func listenAddr(addr string) (string, error) {
	if addr == "" {
		return defaultAddr, nil
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("LISTEN_ADDR=%q is not host:port, such as :5000 or 127.0.0.1:5000", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("LISTEN_ADDR=%q: the port must be a number from 0 to 65535", addr)
	}
	return addr, nil
}

func newServer(logger *slog.Logger) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	// Requests come through proxies, so the connection's address is the last
	// proxy's. The visitor's address is in X-Forwarded-For, which anyone can
	// write: believe it only as far back as the proxies are ours.
	e.IPExtractor = echo.ExtractIPFromXFFHeader(
		echo.TrustLoopback(true), // oauth2-proxy on the same machine, when run locally
		echo.TrustLinkLocal(false),
		echo.TrustPrivateNet(false), // Echo's default would trust every private range
		echo.TrustIPRange(radixNetwork),
	)
	e.Use(requestLogger(logger))
	e.Use(middleware.Recover())
	// The page shows text from outside. Should escaping ever miss, the
	// browser still runs no script, and no other site may frame the page.
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		ContentTypeNosniff:    "nosniff",
		XFrameOptions:         "DENY",
		ContentSecurityPolicy: "default-src 'none'; frame-ancestors 'none'",
	}))
	e.GET("/", hello)
	e.GET("/healthz", healthz)
	return e
}

// radixNetwork holds the addresses of the pods in a Radix cluster, among
// them Radix's gateway and the auth-proxy component.
var radixNetwork = &net.IPNet{IP: net.IP{10, 0, 0, 0}, Mask: net.CIDRMask(8, 32)}

// identity is who oauth2-proxy says signed in. The proxy replaces any copy
// of these headers that the browser sent, so they can be believed only on
// requests that came through it.
type identity struct {
	User              string // the ID token's sub claim
	PreferredUsername string // the sign-in name; needs the profile scope
	Email             string
}

func identityFrom(h http.Header) identity {
	return identity{
		User:              h.Get("X-Forwarded-User"),
		PreferredUsername: h.Get("X-Forwarded-Preferred-Username"),
		Email:             h.Get("X-Forwarded-Email"),
	}
}

// page escapes every value it shows: header values are text from the
// identity provider, and a name may contain anything, <script> included.
var page = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Signed in</title></head>
<body>
<h1>Hello, {{or .PreferredUsername .Email .User}}</h1>
<dl>
<dt>User id</dt><dd id="user">{{with .User}}{{.}}{{else}}<em>not sent</em>{{end}}</dd>
<dt>Preferred username</dt><dd id="preferred-username">{{with .PreferredUsername}}{{.}}{{else}}<em>not sent</em>{{end}}</dd>
<dt>Email</dt><dd id="email">{{with .Email}}{{.}}{{else}}<em>not sent</em>{{end}}</dd>
</dl>
<p><a href="/oauth2/sign_out">Sign out</a></p>
</body>
</html>
`))

// notSignedIn answers requests that did not come through oauth2-proxy.
const notSignedIn = "Not signed in: open this site through oauth2-proxy, " +
	"which signs you in and tells this server who you are.\n"

// hello shows who signed in.
func hello(c echo.Context) error {
	id := identityFrom(c.Request().Header)
	if id.User == "" && id.Email == "" {
		return c.String(http.StatusUnauthorized, notSignedIn)
	}
	var body bytes.Buffer
	if err := page.Execute(&body, id); err != nil {
		return err
	}
	return c.HTMLBlob(http.StatusOK, body.Bytes())
}

// healthz tells Radix's readiness probe that the server can take requests.
func healthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok")
}

// requestLogger writes one JSON line per request, which Radix's log view
// shows as it is. Probes are left out: they would drown the real traffic.
func requestLogger(logger *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		Skipper:     func(c echo.Context) bool { return c.Path() == "/healthz" },
		HandleError: true,
		LogMethod:   true,
		LogURI:      true,
		LogStatus:   true,
		LogLatency:  true,
		LogRemoteIP: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			logger.LogAttrs(c.Request().Context(), slog.LevelInfo, "request",
				slog.String("method", v.Method),
				slog.String("uri", v.URI),
				slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency),
				slog.String("remote_ip", v.RemoteIP),
			)
			return nil
		},
	})
}

// serve answers requests on ln until ctx ends, then lets in-flight requests
// finish for up to shutdownTimeout.
func serve(ctx context.Context, ln net.Listener, handler http.Handler, logger *slog.Logger) error {
	srv := &http.Server{
		Handler: handler,
		// The timeouts stop slow or stalled clients from holding
		// connections open for ever.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		// Sign-in cookies can take several KiB; this is ample and bounded.
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info("serving", "addr", ln.Addr().String())

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}

	logger.Info("shutting down", "timeout", shutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}
