// Command hello is step 2 of the tutorial: the step 1 server made ready to
// run in a container on Radix. It listens on all interfaces, writes its logs
// as JSON lines to stdout, answers health probes on /healthz and shuts down
// gracefully when Kubernetes sends SIGTERM.
package main

import (
	"context"
	"errors"
	"fmt"
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
	e.Use(requestLogger(logger))
	e.Use(middleware.Recover())
	e.GET("/", hello)
	e.GET("/healthz", healthz)
	return e
}

func hello(c echo.Context) error {
	return c.String(http.StatusOK, "Hello, World!")
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
