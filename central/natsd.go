package central

import (
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
)

// natsReadyTimeout bounds the wait for the embedded server to accept
// clients.
const natsReadyTimeout = 30 * time.Second

// embeddedNATS is the NATS server embedded in the central process. It can
// be stopped and started again on the same address and JetStream directory
// (the demo's outage), and its users are replaced while it runs.
//
// Users are checked by an [authenticator] rather than the server's nkey
// option: a new user is then known at once, without
// (*server.Server).ReloadOptions, whose account reload races with
// JetStream API traffic in nats-server 2.12 (nats-io/nats-server#8499).
type embeddedNATS struct {
	log          *slog.Logger
	host         string
	storeDir     string
	syncAlways   bool
	syncInterval time.Duration
	maxPayload   int
	tls          *tls.Config // nil: no TLS (nats.insecure)

	auth *authenticator

	mu   sync.Mutex
	port int            // -1 or 0 until the first start picked a free port
	ns   *server.Server // nil while stopped
}

// newEmbeddedNATS returns the embedded server of cfg, not started; it
// serves TLS with tlsConfig unless that is nil.
func newEmbeddedNATS(cfg *Config, tlsConfig *tls.Config, log *slog.Logger) (*embeddedNATS, error) {
	host, port, err := splitListen(cfg.NATSListenOrDefault())
	if err != nil {
		return nil, fmt.Errorf("nats listen: %w", err)
	}
	always, interval := cfg.SyncIntervalOrDefault()
	return &embeddedNATS{
		log:          log,
		host:         host,
		port:         port,
		storeDir:     cfg.NATSStoreDirOrDefault(),
		syncAlways:   always,
		syncInterval: interval,
		maxPayload:   cfg.MaxPayloadOrDefault(),
		tls:          tlsConfig,
		auth:         newAuthenticator(),
	}, nil
}

// options returns fresh server options: the server keeps and changes what
// it is given, so options are never reused. Called with e.mu held.
func (e *embeddedNATS) options() *server.Options {
	opts := &server.Options{
		ServerName: "anshim-central",
		Host:       e.host,
		Port:       e.port,
		MaxPayload: int32(e.maxPayload),
		JetStream:  true,
		StoreDir:   e.storeDir,
		// Pitfall 5: a PubAck is an fsync only with sync_interval: always.
		SyncAlways:   e.syncAlways,
		SyncInterval: e.syncInterval,
		// Every client is an nkey user that e.auth knows: the server sends
		// a nonce, the client signs it, e.auth checks the signature.
		CustomClientAuthentication: e.auth,
		AlwaysEnableNonce:          true,
		NoSigs:                     true,
		// No monitoring, cluster, leaf node or websocket listeners.
		HTTPPort: 0,
	}
	if e.port == 0 {
		opts.Port = server.RANDOM_PORT
	}
	if e.tls != nil {
		// Clients must speak TLS; they are not asked for certificates
		// (nkeys authenticate them).
		opts.TLS, opts.TLSConfig, opts.TLSTimeout = true, e.tls.Clone(), 5
	}
	return opts
}

// start starts the server and waits until it accepts clients. Starting a
// running server does nothing.
//
// A client port in use fails at once, naming the address: nats-server
// reports a failed bind only in its log (as a fatal line, followed by
// "Server is ready"), and ReadyForConnections would wait its whole
// timeout. So the port is tried first, and the server's fatal log lines
// end the wait should the port be taken in between.
func (e *embeddedNATS) start() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ns != nil {
		return nil
	}
	addr := net.JoinHostPort(e.host, strconv.Itoa(e.port))
	if e.port > 0 {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("start embedded NATS: client port %d: %w", e.port, err)
		}
		ln.Close()
	}
	if err := os.MkdirAll(e.storeDir, 0o700); err != nil {
		return fmt.Errorf("start embedded NATS: %w", err)
	}
	ns, err := server.NewServer(e.options())
	if err != nil {
		return fmt.Errorf("start embedded NATS: %w", err)
	}
	logger := natsLogger{log: e.log, fatal: &natsFatal{}}
	ns.SetLoggerV2(logger, false, false, false)
	ns.Start()
	if err := waitReady(ns, logger.fatal, natsReadyTimeout); err != nil {
		ns.Shutdown()
		ns.WaitForShutdown()
		return fmt.Errorf("start embedded NATS on %s: %w", addr, err)
	}
	if !ns.JetStreamEnabled() {
		ns.Shutdown()
		ns.WaitForShutdown()
		return errors.New("start embedded NATS: JetStream did not start (see the log)")
	}
	if addr, ok := ns.Addr().(*net.TCPAddr); ok && e.port <= 0 {
		e.port = addr.Port // restarts keep the port kiosks know
	}
	e.ns = ns
	return nil
}

// waitReady waits up to timeout until ns accepts clients, and gives up at
// once when the server logs a fatal error (such as its port in use).
func waitReady(ns *server.Server, fatal *natsFatal, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for !ns.ReadyForConnections(100 * time.Millisecond) {
		if msg := fatal.get(); msg != "" {
			return errors.New(msg)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v", timeout)
		}
	}
	return nil
}

// stop shuts the server down and waits until it is down. Its JetStream
// files stay; start serves them again.
func (e *embeddedNATS) stop() {
	e.mu.Lock()
	ns := e.ns
	e.ns = nil
	e.mu.Unlock()
	if ns != nil {
		ns.Shutdown()
		ns.WaitForShutdown()
	}
}

// running reports whether the server runs.
func (e *embeddedNATS) running() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ns != nil
}

// setUsers replaces the server's users: a new device can connect at once.
// (A removed user keeps its open connection until it disconnects.)
func (e *embeddedNATS) setUsers(users []natsUser) error {
	e.auth.set(users)
	return nil
}

// authenticator authenticates the embedded server's clients: nkey users
// that signed the server's nonce, with their permissions.
type authenticator struct {
	mu    sync.RWMutex
	users map[string]natsUser // by public nkey
}

var _ server.Authentication = (*authenticator)(nil)

func newAuthenticator() *authenticator {
	return &authenticator{users: make(map[string]natsUser)}
}

// set replaces the users.
func (a *authenticator) set(users []natsUser) {
	m := make(map[string]natsUser, len(users))
	for _, u := range users {
		m[u.NKey] = u
	}
	a.mu.Lock()
	a.users = m
	a.mu.Unlock()
}

// Check implements server.Authentication: the client's nkey is a known
// user and its signature of the connection's nonce verifies. The client
// then gets the user's permissions, and the device id (or "central") as
// its user name in the server's logs.
func (a *authenticator) Check(c server.ClientAuthentication) bool {
	if c.Kind() != server.CLIENT {
		return false
	}
	o := c.GetOpts()
	a.mu.RLock()
	u, ok := a.users[o.Nkey]
	a.mu.RUnlock()
	nonce := c.GetNonce()
	if !ok || o.Sig == "" || len(nonce) == 0 {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(o.Sig)
	if err != nil {
		if sig, err = base64.StdEncoding.DecodeString(o.Sig); err != nil {
			return false
		}
	}
	pub, err := nkeys.FromPublicKey(o.Nkey)
	if err != nil || pub.Verify(nonce, sig) != nil {
		return false
	}
	name := u.Device
	if name == "" {
		name = "central"
	}
	c.RegisterUser(&server.User{Username: name, Permissions: clonePermissions(u.Permissions)})
	return true
}

// clientURL returns the URL clients connect to.
func (e *embeddedNATS) clientURL() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	host := e.host
	switch host {
	case "", "0.0.0.0", "::":
		host = "127.0.0.1"
	}
	scheme := "tls://"
	if e.tls == nil {
		scheme = "nats://"
	}
	return scheme + net.JoinHostPort(host, strconv.Itoa(e.port))
}

// natsLogger passes the NATS server's log lines to slog. The first fatal
// line is kept in fatal, and the server's "Server is ready" after it is
// dropped: it is not.
type natsLogger struct {
	log   *slog.Logger
	fatal *natsFatal
}

// natsFatal holds the first fatal error a NATS server logged.
type natsFatal struct {
	mu  sync.Mutex
	msg string
}

func (f *natsFatal) set(msg string) {
	f.mu.Lock()
	if f.msg == "" {
		f.msg = msg
	}
	f.mu.Unlock()
}

// get returns the first fatal error logged, or "".
func (f *natsFatal) get() string {
	if f == nil {
		return ""
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.msg
}

func (l natsLogger) Noticef(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if msg == "Server is ready" && l.fatal.get() != "" {
		return
	}
	l.log.Info(msg, "component", "nats")
}
func (l natsLogger) Warnf(format string, v ...any) {
	l.log.Warn(fmt.Sprintf(format, v...), "component", "nats")
}
func (l natsLogger) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if l.fatal != nil {
		l.fatal.set(msg)
	}
	l.log.Error(msg, "component", "nats", "fatal", true)
}
func (l natsLogger) Errorf(format string, v ...any) {
	l.log.Error(fmt.Sprintf(format, v...), "component", "nats")
}
func (l natsLogger) Debugf(format string, v ...any) {
	l.log.Debug(fmt.Sprintf(format, v...), "component", "nats")
}
func (l natsLogger) Tracef(format string, v ...any) {
	l.log.Debug(fmt.Sprintf(format, v...), "component", "nats")
}
