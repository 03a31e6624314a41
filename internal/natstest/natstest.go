// Package natstest runs a real nats-server with JetStream inside a test:
// on a random loopback port, with its file store in a temporary directory,
// shut down when the test ends. Restart stops it and starts it again on
// the same port and store, as after an outage or a crash of the server.
package natstest

import (
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Server is an embedded nats-server with JetStream.
type Server struct {
	t    testing.TB
	opts server.Options
	srv  *server.Server
	// URL is the client URL (nats://127.0.0.1:PORT); it stays the same
	// across restarts.
	URL string
}

// StartJetStream starts a server with JetStream on a file store in a
// temporary directory, on a random port of 127.0.0.1, and stops it when
// the test ends. With users it accepts only those nkey users; without, any
// client.
func StartJetStream(t testing.TB, users ...*server.NkeyUser) *Server {
	t.Helper()
	s := &Server{t: t, opts: server.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		NoLog: true, NoSigs: true, Nkeys: users,
	}}
	s.Start()
	s.opts.Port = s.srv.Addr().(*net.TCPAddr).Port
	t.Cleanup(s.Stop)
	return s
}

// Start starts the server again after Stop, on the same port and store (a
// no-op when it runs). It fails the test if the server does not start
// within 10 s.
func (s *Server) Start() {
	s.t.Helper()
	if s.srv != nil {
		return
	}
	opts := s.opts // the server keeps and changes what it is given
	srv, err := server.NewServer(&opts)
	if err != nil {
		s.t.Fatalf("natstest: %v", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		s.t.Fatal("natstest: nats-server did not start within 10 s")
	}
	s.srv, s.URL = srv, srv.ClientURL()
}

// Stop shuts the server down and waits until it is down (a no-op when it
// is stopped).
func (s *Server) Stop() {
	if s.srv != nil {
		s.srv.Shutdown()
		s.srv.WaitForShutdown()
		s.srv = nil
	}
}

// Restart stops the server and starts it again on the same port and
// store.
func (s *Server) Restart() { s.Stop(); s.Start() }

// Server returns the running nats-server (nil when stopped).
func (s *Server) Server() *server.Server { return s.srv }

// Connect connects a client to url with opts, closed when the test ends,
// and returns it with its JetStream context.
func Connect(t testing.TB, url string, opts ...nats.Option) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatalf("natstest: connect %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("natstest: jetstream: %v", err)
	}
	return nc, js
}
