// Package server is roster's HTTP listener: the router every door mounts its
// routes on, /healthz and /readyz, a request id and one log line per request,
// timeouts, and graceful shutdown.
package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/gorilla/mux"

	"github.com/rosterhq/roster/core"
)

// Config tunes the listener.
type Config struct {
	Addr              string
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	ShutdownTimeout   time.Duration
	// TLS, when set, serves HTTPS on Addr with certificates from it
	// (GetCertificate, so that a reload swaps the certificate live).
	TLS *Certificates
	// TrustedProxies are the addresses whose X-Forwarded-For and
	// X-Forwarded-Proto headers are believed.
	TrustedProxies []netip.Prefix
	// Observe, when set, sees every request once it ended: its route
	// pattern ("unmatched" when no route matched), method, status and
	// duration (for metrics).
	Observe func(route, method string, status int, d time.Duration)
	// MaxBodyBytes bounds every request body (default 64 MiB, above the
	// largest a route accepts: a 32 MiB import). Routes set tighter limits.
	MaxBodyBytes int64
}

// DefaultMaxBodyBytes is the server-wide request body bound.
const DefaultMaxBodyBytes = 64 << 20

// ReadyFunc reports whether the daemon can serve (database answers, migrations applied).
type ReadyFunc func(ctx context.Context) error

// Server is the daemon's HTTP server.
type Server struct {
	cfg    Config
	router *mux.Router
	log    *slog.Logger
	ready  ReadyFunc
}

// New builds a server. Doors add their routes with Router() before Serve.
func New(cfg Config, ready ReadyFunc, log *slog.Logger) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	s := &Server{cfg: cfg, router: mux.NewRouter(), log: log.With("component", "http"), ready: ready}
	s.router.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}).Methods(http.MethodGet, http.MethodHead)
	s.router.HandleFunc("/readyz", s.readyz).Methods(http.MethodGet, http.MethodHead)
	s.router.Use(recordRoute)
	return s
}

// Router is where doors mount their routes.
func (s *Server) Router() *mux.Router { return s.router }

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.ready(ctx); err != nil {
		s.log.Warn("not ready", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// Handler is the router wrapped in the request-id and logging middleware,
// the default security headers and the body bound.
func (s *Server) Handler() http.Handler {
	return s.fromProxy(s.logRequests(securityHeaders(limitBody(s.cfg.MaxBodyBytes, s.router))))
}

// securityHeaders sets safe defaults on every response before the handler
// runs, so that a handler (the console, with its own CSP) can override them
// with w.Header().Set.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		next.ServeHTTP(w, r)
	})
}

// limitBody answers 413 to a body declared larger than max without reading
// it, and bounds bodies of unknown length.
func limitBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			w.Header().Set("Connection", "close")
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]any{"error": map[string]string{
				"code": "too_large", "message": fmt.Sprintf("the request body is over %d bytes", max)}})
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, max)
		}
		next.ServeHTTP(w, r)
	})
}

type ctxKey int

const (
	routeKey ctxKey = iota
	schemeKey
)

// recordRoute notes the matched route's pattern for the request's log
// line and metrics (a router middleware: it runs once a route matched).
func recordRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := r.Context().Value(routeKey).(*string); ok {
			if cur := mux.CurrentRoute(r); cur != nil {
				if t, err := cur.GetPathTemplate(); err == nil {
					*p = t
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	code  int
	bytes int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// logRequests gives each request an id (X-Request-Id) and logs one line when
// it ends. The query string is not logged: it may carry tokens.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newRequestID()
		route := new(string)
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic serving request", "request_id", id, "panic", fmt.Sprint(p))
				if sw.code == 0 {
					http.Error(sw, `{"error":{"code":"internal","message":"internal error"}}`, http.StatusInternalServerError)
				}
			}
			level := slog.LevelInfo
			if sw.code >= 500 {
				level = slog.LevelError
			}
			if sw.code == 0 {
				sw.code = http.StatusOK // nothing written: net/http answers 200
			}
			d := time.Since(start)
			s.log.Log(r.Context(), level, "request", "request_id", id, "method", r.Method, "path", logPath(r.URL.Path),
				"status", sw.code, "bytes", sw.bytes, "duration", d, "remote", r.RemoteAddr, "proto", Scheme(r))
			if s.cfg.Observe != nil {
				rt := *route
				if rt == "" {
					rt = "unmatched"
				}
				s.cfg.Observe(rt, r.Method, sw.code, d)
			}
		}()
		// One request id, owned by the core: every door's logs and the
		// history entries written for the request name it.
		ctx := core.WithRequestID(r.Context(), id)
		ctx = context.WithValue(ctx, routeKey, route)
		next.ServeHTTP(sw, r.WithContext(ctx))
	})
}

// Listen opens the listening socket (so that callers know the daemon is
// reachable before they report readiness).
func (s *Server) Listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	if s.cfg.TLS != nil {
		ln = tls.NewListener(ln, s.cfg.TLS.TLSConfig())
	}
	return ln, nil
}

// Serve serves on ln until ctx is done, then shuts down gracefully: in-flight
// requests finish (up to ShutdownTimeout).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	// Requests get a context that outlives ctx by the grace period: in-flight
	// work finishes, and what is still running when the grace is over is
	// cancelled (its transaction rolls back) instead of being cut mid-write.
	reqCtx, cancelReqs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelReqs()
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "grace", s.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		s.log.Warn("grace period over: cancelling the requests still running", "grace", s.cfg.ShutdownTimeout)
		cancelReqs()
		cctx, cancel := context.WithTimeout(context.Background(), cancelGrace)
		defer cancel()
		if err = hs.Shutdown(cctx); err != nil {
			s.log.Error("requests did not stop after cancellation; closing their connections", "err", err)
			err = hs.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// cancelGrace is how long cancelled requests get to roll back and answer.
const cancelGrace = 5 * time.Second
