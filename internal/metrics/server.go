package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Server serves /metrics for Prometheus (--metrics-addr).
type Server struct {
	addr string
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
	err  error // why serving stopped early, read after done
}

// NewServer makes a server for addr (HOST:PORT; port 0 picks one) that
// serves h at /metrics.
func NewServer(addr string, h http.Handler) *Server {
	mux := http.NewServeMux()
	mux.Handle("/metrics", h)
	return &Server{addr: addr, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
}

// Start binds the address, so a busy or bad one is an error at once, and
// serves in the background.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("--metrics-addr %s: %w", s.addr, err)
	}
	s.ln, s.done = ln, make(chan struct{})
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.err = err
		}
	}()
	return nil
}

// Addr is the address bound, with the port picked for port 0.
func (s *Server) Addr() string {
	if s.ln == nil {
		return s.addr
	}
	return s.ln.Addr().String()
}

// Close stops serving, letting a scrape in progress finish until ctx ends.
// The error says why serving had stopped early, if it had.
func (s *Server) Close(ctx context.Context) error {
	if s.ln == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	<-s.done
	if s.err != nil {
		return fmt.Errorf("serving metrics: %w", s.err)
	}
	return err
}
