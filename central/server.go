package central

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/pgstore"
	"github.com/anshim/anshim/central/vault"
	"github.com/anshim/anshim/internal/atomicfile"
	"github.com/anshim/anshim/internal/clientaddr"
	"github.com/anshim/anshim/province"
	"github.com/anshim/anshim/sync/ingest"
)

// Server is a central server: the store, NATS (embedded or external), the
// down-sync buckets, ingest of kiosk batches and the HTTP API. Make one with
// [New], then [Server.Start] it and [Server.Close] it.
type Server struct {
	dayKeys    *daykeys.Keys        // the day-key ratchet (crypto-shredding)
	clients    *clientaddr.Resolver // client addresses behind cfg.TrustedProxies
	seen       seenSet              // pseudonyms of ingested check-ins, for the vault's last use
	fleet      fleetReports         // the kiosks' latest status reports (fleet.go)
	vault      *vault.Vault         // the identity vault (nil when vaultErr says why)
	vaultErr   error
	cfg        Config
	log        *slog.Logger
	now        func() time.Time
	keys       *province.Keys
	store      store.Store
	adminToken string
	nkey       nkeys.KeyPair // the central's own NATS user
	nats       *embeddedNATS // nil with an external cluster
	natsTLS    *natsTLS      // nil: NATS without TLS (nats.insecure)
	metrics    *metrics
	// ingestMetrics are sync/ingest's counters, kept across restarts of
	// ingest.
	ingestMetrics *ingest.Metrics

	usersMu sync.Mutex          // serialises changes of the NATS users
	users   map[string]natsUser // device id → user
	// usersSeen are the devices of the store at the last look
	// (refreshUsers): only devices not among them are added from it.
	usersSeen map[string]bool
	// usersAskedAt is when knowNKey last read the store.
	usersAskedAt time.Time

	// Set by Start.
	nc      *nats.Conn
	js      jetstream.JetStream
	kv      *downSync
	httpLn  net.Listener
	httpSrv *http.Server
	cancel  context.CancelFunc // stops the background work
	wg      sync.WaitGroup
	errc    chan error // the first failure of a background part
	// republish asks for the down-sync values to be written again, after
	// a reconnect.
	republish chan struct{}

	// signsLedger is set while this central holds the ledger signer's
	// lease (ledgerSignerLoop).
	signsLedger atomic.Bool

	closeOnce sync.Once
	closeErr  error
}

// New opens the store and the province keys of cfg, creates the data
// directory and the central's secrets (the admin token and its NATS key)
// when missing, and returns a server that is not started. A nil logger
// discards the log.
func New(cfg Config, logger *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataOrDefault(), 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	st, err := OpenStore(&cfg)
	if err != nil {
		return nil, err
	}
	s, err := newServer(cfg, logger, st)
	if err != nil {
		st.Close()
		return nil, err
	}
	return s, nil
}

// newServer is New with an open store, which the server then owns.
func newServer(cfg Config, logger *slog.Logger, st store.Store) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	data := cfg.DataOrDefault()
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	keys, err := province.Load(cfg.KeysOrDefault())
	if err != nil {
		return nil, fmt.Errorf("province keys: %w", err)
	}
	if !keys.HasRootKey() {
		// Kiosks take key updates (and the NATS CA) only signed by it.
		return nil, fmt.Errorf("province keys in %s: %w: add one with 'anshim keygen --dir %s --add-root', then give the kiosks the new %s",
			cfg.KeysOrDefault(), province.ErrNoRootKey, cfg.KeysOrDefault(), province.BundleFile)
	}
	tokenPath := filepath.Join(data, AdminTokenFile)
	tok, created, err := loadOrCreateSecret(tokenPath, newAdminToken)
	if err != nil {
		return nil, fmt.Errorf("admin token: %w", err)
	}
	if created {
		logger.Info("created the admin token", "file", tokenPath)
	}
	kp, created, err := loadUserKey(cfg.NKeyFileOrDefault())
	if err != nil {
		return nil, err
	}
	if created {
		logger.Info("created the central's NATS key", "file", cfg.NKeyFileOrDefault())
	}
	s := &Server{
		cfg:           cfg,
		log:           logger,
		now:           cfg.NowOrDefault(),
		keys:          keys,
		store:         st,
		adminToken:    strings.TrimSpace(string(tok)),
		nkey:          kp,
		metrics:       new(metrics),
		ingestMetrics: new(ingest.Metrics),
		users:         make(map[string]natsUser),
		errc:          make(chan error, 8),
		republish:     make(chan struct{}, 1),
	}
	if s.clients, err = clientaddr.New(cfg.TrustedProxies); err != nil {
		return nil, fmt.Errorf("config: trusted_proxies: %w", err)
	}
	if s.dayKeys, err = s.openDayKeys(); err != nil {
		return nil, err
	}
	bctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	err = bindDayKeys(bctx, st, s.dayKeys, filepath.Join(data, DayKeysFile))
	cancel()
	if err != nil {
		return nil, err
	}
	if s.vault, err = vault.New(st, keys.KEK(), keys.Signer(), &vault.Options{Now: s.now}); err != nil {
		s.vaultErr = fmt.Errorf("identity vault: %w", err)
		logger.Error("identity vault unavailable", "err", err)
	}
	if s.natsTLS, err = loadNATSTLS(&s.cfg, natsHosts(&s.cfg)); err != nil {
		return nil, err
	}
	if cfg.EmbeddedNATS() {
		var tc *tls.Config
		if s.natsTLS != nil {
			tc = s.natsTLS.serverConfig()
		}
		s.nats, err = newEmbeddedNATS(&s.cfg, tc, logger)
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Start starts the server without blocking: the embedded NATS server (or
// the connection to the external cluster, waiting for it as long as ctx
// allows), the down-sync buckets filled from the province keys and the
// store's venues, the check-in stream and its ingest, and the HTTP API.
// ctx bounds the start only; the server runs until [Server.Close]. A
// server that failed to start is closed.
func (s *Server) Start(ctx context.Context) error {
	if s.cancel != nil {
		return errors.New("start: already started")
	}
	bg, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if err := s.start(ctx, bg); err != nil {
		s.Close()
		return err
	}
	return nil
}

func (s *Server) start(ctx, bg context.Context) error {
	if s.natsTLS == nil {
		s.log.Warn("NATS without TLS (nats.insecure / --nats-insecure): kiosk links are neither encrypted nor authenticated",
			"hint", "leave out --nats-insecure: the central then serves NATS over TLS with its own CA")
	}
	devices, err := s.store.Devices(ctx)
	if err != nil {
		return fmt.Errorf("start: list devices: %w", err)
	}
	gone, err := s.decommissioned(ctx) // fleet.go
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	s.usersMu.Lock()
	s.usersSeen = make(map[string]bool, len(devices))
	for _, d := range devices {
		s.usersSeen[d.ID] = true
		if !gone[d.ID] {
			s.users[d.ID] = natsUser{NKey: d.NKey, Device: d.ID, Permissions: DevicePermissions(d.Venue, d.ID)}
		}
	}
	s.usersMu.Unlock()
	if err := s.applyUsers(); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	if s.nats != nil {
		if err := s.nats.start(); err != nil {
			return err
		}
	}
	if err := s.connect(ctx); err != nil {
		return err
	}
	if err := s.retryJetStream(ctx, "JetStream", func(ctx context.Context) error {
		_, err := s.js.AccountInfo(ctx)
		return err
	}); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	if err := s.retryJetStream(ctx, "down-sync buckets", func(ctx context.Context) (err error) {
		s.kv, err = ensureBuckets(ctx, s.js, s.cfg.ReplicasOrDefault())
		return err
	}); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	if err := s.publishAll(ctx); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	if err := s.startConsumerGuard(ctx, bg); err != nil { // consumerguard.go
		return fmt.Errorf("start: %w", err)
	}
	s.goBackground("republish", func() error { s.republishLoop(bg); return nil })
	s.goBackground("NATS users from the store", func() error { s.refreshUsersLoop(bg); return nil })
	s.goBackground("check-in retention", func() error {
		s.periodic(bg, retentionEvery, func(ctx context.Context, now time.Time) error {
			_, err := s.RunRetention(ctx, now)
			return err
		})
		return nil
	})
	s.goBackground("identity last use", func() error {
		s.periodic(bg, seenEvery, s.touchSeen)
		return nil
	})
	if s.vault != nil {
		s.goBackground("identity retention", func() error { s.vaultRetention(bg, s.vault); return nil })
	}
	s.goBackground("ledger checkpoints", func() error { s.ledgerSignerLoop(bg); return nil })
	s.goBackground("ledger receipts", func() error { return s.receiptsLoop(bg) })
	if err := s.startIngest(ctx, bg); err != nil {
		return fmt.Errorf("start: ingest: %w", err)
	}
	if err := s.startHTTP(); err != nil {
		return err
	}
	s.log.Info("central started",
		"http", s.HTTPURL(), "nats", s.NATSURL(), "embedded_nats", s.nats != nil,
		"admin_token_file", filepath.Join(s.cfg.DataOrDefault(), AdminTokenFile),
		"devices", len(devices))
	return nil
}

// connect connects the central's own NATS user and waits for the first
// connection as long as ctx allows. The connection reconnects forever.
func (s *Server) connect(ctx context.Context) error {
	pub, err := s.nkey.PublicKey()
	if err != nil {
		return fmt.Errorf("connect NATS: %w", err)
	}
	urls := s.cfg.NATS.URLs
	if s.nats != nil {
		urls = []string{s.nats.clientURL()}
	}
	var secure []nats.Option
	switch {
	case s.natsTLS == nil:
	case s.nats != nil || allTLS(urls):
		secure = append(secure, nats.Secure(s.natsTLS.clientConfig()))
	default:
		// An external cluster at nats:// URLs: TLS (verified with the
		// given CA) whenever the servers ask for it.
		tc := s.natsTLS.clientConfig()
		secure = append(secure, func(o *nats.Options) error { o.TLSConfig = tc; return nil })
		s.log.Warn("external NATS at nats:// URLs: the central's and the kiosks' links are plaintext unless the cluster requires TLS",
			"hint", "give tls:// URLs (and the cluster's CA with --nats-tls-ca), or --nats-insecure to say that plaintext is meant")
	}
	nc, err := nats.Connect(strings.Join(urls, ","), append(secure,
		nats.Name("anshim-central"),
		nats.Nkey(pub, s.nkey.Sign),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.IgnoreAuthErrorAbort(),
		nats.ReconnectWait(250*time.Millisecond),
		nats.ReconnectJitter(250*time.Millisecond, time.Second),
		// Requests fail while disconnected instead of waiting in RAM.
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				s.log.Warn("NATS disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			s.log.Info("NATS reconnected", "url", nc.ConnectedUrl())
			select { // venues added while NATS was away
			case s.republish <- struct{}{}:
			default:
			}
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			s.log.Warn("NATS error", "err", err)
		}),
	)...)
	if err != nil {
		return fmt.Errorf("connect NATS %s: %w", strings.Join(urls, ","), err)
	}
	s.nc = nc
	if err := waitConnected(ctx, nc, s.log); err != nil {
		hint := ""
		if s.nats == nil {
			hint = fmt.Sprintf(" (does every NATS server include %s and was it reloaded?)",
				s.cfg.DevicesConfOrDefault())
		}
		return fmt.Errorf("connect NATS %s: %w%s", strings.Join(urls, ","), err, hint)
	}
	s.js, err = jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("JetStream: %w", err)
	}
	return nil
}

// allTLS reports whether every URL asks for TLS (tls:// or wss://).
func allTLS(urls []string) bool {
	for _, u := range urls {
		if !strings.HasPrefix(u, "tls://") && !strings.HasPrefix(u, "wss://") {
			return false
		}
	}
	return len(urls) > 0
}

// waitConnected waits until nc is connected or ctx is done.
func waitConnected(ctx context.Context, nc *nats.Conn, log *slog.Logger) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	start := time.Now()
	last := start
	for !nc.IsConnected() {
		select {
		case <-ctx.Done():
			if err := nc.LastError(); err != nil {
				return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
			}
			return ctx.Err()
		case now := <-t.C:
			if now.Sub(last) >= 10*time.Second {
				log.Warn("waiting for NATS", "waited", now.Sub(start).Round(time.Second), "last_error", nc.LastError())
				last = now
			}
		}
	}
	return nil
}

// publishAll writes the province keys and the store's venues to the
// down-sync buckets.
func (s *Server) publishAll(ctx context.Context) error {
	if s.kv == nil {
		return nil
	}
	if err := s.kv.publishKeys(ctx, s.keys, s.now()); err != nil {
		return err
	}
	venues, err := s.store.Venues(ctx)
	if err != nil {
		return fmt.Errorf("list venues: %w", err)
	}
	return s.kv.publishVenues(ctx, venues)
}

// republishLoop writes the down-sync values again whenever the central's
// NATS connection comes back, until bg is done.
func (s *Server) republishLoop(bg context.Context) {
	for {
		select {
		case <-bg.Done():
			return
		case <-s.republish:
		}
		ctx, cancel := context.WithTimeout(bg, 30*time.Second)
		if err := s.publishAll(ctx); err != nil && bg.Err() == nil {
			s.log.Warn("republish down-sync values after reconnect", "err", err)
		}
		cancel()
	}
}

// startHTTP listens on the HTTP address and serves the API, over HTTPS
// with the configured certificate.
func (s *Server) startHTTP() error {
	var tc *tls.Config
	if s.cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
		if err != nil {
			return fmt.Errorf("start HTTPS: %w", err)
		}
		tc = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", s.cfg.HTTPOrDefault())
	if err != nil {
		return fmt.Errorf("start HTTP: %w", err)
	}
	s.httpLn = ln
	s.httpSrv = &http.Server{
		TLSConfig:         tc,
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.goBackground("http", func() error {
		serve := func() error { return s.httpSrv.Serve(ln) }
		if s.httpSrv.TLSConfig != nil {
			serve = func() error { return s.httpSrv.ServeTLS(ln, "", "") }
		}
		if err := serve(); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	return nil
}

// goBackground runs a background part; its failure ends [Server.Wait].
func (s *Server) goBackground(name string, run func() error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := run(); err != nil {
			s.log.Error("background part failed", "part", name, "err", err)
			select {
			case s.errc <- fmt.Errorf("%s: %w", name, err):
			default:
			}
		}
	}()
}

// Wait blocks until ctx is done, returning nil, or until a background part
// of the server (HTTP, ingest) fails, returning its error. Close the server
// afterwards.
func (s *Server) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-s.errc:
		return err
	}
}

// NATSURL returns the URL of the NATS server the central uses: the
// embedded server's client URL, or the external cluster's URLs.
func (s *Server) NATSURL() string {
	if s.nats != nil {
		return s.nats.clientURL()
	}
	return strings.Join(s.cfg.NATS.URLs, ",")
}

// HTTPURL returns the base URL of the HTTP API ("" before Start).
func (s *Server) HTTPURL() string {
	if s.httpLn == nil {
		return ""
	}
	addr := s.httpLn.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	scheme := "http://"
	if s.cfg.TLSCert != "" {
		scheme = "https://"
	}
	return scheme + net.JoinHostPort(host, fmt.Sprint(addr.Port))
}

// NATSCA returns the PEM certificate of the CA that kiosks verify the NATS
// servers with (given at enrollment), or nil when they use the system's
// roots or NATS runs without TLS.
func (s *Server) NATSCA() []byte {
	if s.natsTLS == nil {
		return nil
	}
	return slices.Clone(s.natsTLS.caPEM)
}

// BundleSHA256 returns the SHA-256 of the province bundle that enrollment
// hands out: what `kiosk enroll --bundle-sha256` pins.
func (s *Server) BundleSHA256() string {
	sum, err := s.keys.Bundle().SHA256()
	if err != nil {
		// Load checked the keys.
		panic("central: invalid bundle: " + err.Error())
	}
	return sum
}

// AdminTokenFile returns the path of the file holding the admin API's
// bearer token.
func (s *Server) AdminTokenFile() string {
	return filepath.Join(s.cfg.DataOrDefault(), AdminTokenFile)
}

// advertisedURLs returns the NATS URLs given to kiosks.
func (s *Server) advertisedURLs() []string {
	if len(s.cfg.NATS.Advertise) > 0 {
		return slices.Clone(s.cfg.NATS.Advertise)
	}
	if s.nats != nil {
		return []string{s.nats.clientURL()}
	}
	return slices.Clone(s.cfg.NATS.URLs)
}

// StopNATS shuts the embedded NATS server down, as an outage would; its
// JetStream files stay. Kiosks and the central reconnect after
// [Server.StartNATS]. It fails with an external cluster.
func (s *Server) StopNATS() error {
	if s.nats == nil {
		return errors.New("stop NATS: the central does not embed NATS")
	}
	s.nats.stop()
	s.log.Info("embedded NATS stopped")
	return nil
}

// StartNATS starts the embedded NATS server again after [Server.StopNATS],
// on the same address and JetStream directory, and waits until the
// central's own connection is back.
func (s *Server) StartNATS() error {
	if s.nats == nil {
		return errors.New("start NATS: the central does not embed NATS")
	}
	if err := s.nats.start(); err != nil {
		return err
	}
	s.log.Info("embedded NATS started", "url", s.nats.clientURL())
	if s.nc == nil {
		return nil
	}
	s.nc.ForceReconnect()
	ctx, cancel := context.WithTimeout(context.Background(), natsReadyTimeout)
	defer cancel()
	if err := waitConnected(ctx, s.nc, s.log); err != nil {
		return fmt.Errorf("start NATS: central connection: %w", err)
	}
	return nil
}

// Close stops the HTTP API, ingest and the embedded NATS server, and
// closes the store. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.httpSrv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := s.httpSrv.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
				// Requests still running after the grace period are cut:
				// each either committed or did not; clients retry.
				s.log.Warn("HTTP requests still running after 5 s: closing their connections")
				s.httpSrv.Close()
			} else if err != nil {
				errs = append(errs, fmt.Errorf("stop HTTP: %w", err))
			}
			cancel()
		} else if s.httpLn != nil {
			s.httpLn.Close()
		}
		if s.cancel != nil {
			s.cancel()
		}
		// Wait for the background parts before closing the connection: a
		// batch being ingested keeps the connection for its ack (else it
		// comes back as a duplicate after AckWait at the next start).
		s.wg.Wait()
		if s.nc != nil {
			s.nc.Close()
		}
		if s.nats != nil {
			s.nats.stop()
		}
		if err := s.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
		s.closeErr = errors.Join(errs...)
		s.log.Info("central stopped")
	})
	return s.closeErr
}

// applyUsers gives the NATS servers the current users: the embedded
// server's authenticator knows them at once; for an external cluster
// DATA/nats-devices.conf is rewritten, for the operator to reload.
func (s *Server) applyUsers() error {
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	pub, err := s.nkey.PublicKey()
	if err != nil {
		return err
	}
	users := []natsUser{{NKey: pub}}
	for _, u := range s.users {
		users = append(users, u)
	}
	slices.SortFunc(users[1:], func(a, b natsUser) int { return cmp.Compare(a.Device, b.Device) })
	if s.nats != nil {
		return s.nats.setUsers(users)
	}
	path := s.cfg.DevicesConfOrDefault()
	if err := atomicfile.Write(path, formatDevicesConf(users), 0o644); err != nil {
		return fmt.Errorf("write NATS users: %w", err)
	}
	s.log.Info("wrote the NATS users; reload the NATS servers", "file", path, "devices", len(users)-1)
	return nil
}

// addUser adds a device's NATS user.
func (s *Server) addUser(d store.Device) error {
	s.usersMu.Lock()
	s.users[d.ID] = natsUser{NKey: d.NKey, Device: d.ID, Permissions: DevicePermissions(d.Venue, d.ID)}
	if s.usersSeen != nil {
		s.usersSeen[d.ID] = true // not new to refreshUsers
	}
	s.usersMu.Unlock()
	return s.applyUsers()
}

// ledgerLeaser is a store that several centrals share (pgstore): the one
// central that signs the ledger's checkpoints holds its lease.
type ledgerLeaser interface {
	TryLease(ctx context.Context, key int64) (*pgstore.Lease, error)
}

// leaseEvery is how often a central tries to take the ledger signer's
// lease, and how often its holder checks that it still holds it.
var leaseEvery = time.Second

// leaseCheckTimeout bounds one check of the lease.
const leaseCheckTimeout = 5 * time.Second

// ledgerSignerLoop signs the ledger's checkpoints (ledgerLoop) while this
// central is the ledger's only signer, until bg is done. On a store that
// several centrals share that is while it holds the store's lease
// (pgstore.LockLedgerSigner, an advisory lock on a session of its own):
// the others try to take it every leaseEvery, so when the holder dies
// (its session ends with its socket) or its session is cut
// (pg_terminate_backend, a restart of PostgreSQL) another central signs
// within about a second. A holder that finds its session gone stops
// signing at once. A checkpoint is always of the tree as stored, which
// all centrals share, so a checkpoint signed in the moment between the
// loss and the check agrees with the new signer's of the same size
// (Ed25519 signatures of the same text are the same bytes). A bbolt store
// has one process: it always signs.
func (s *Server) ledgerSignerLoop(bg context.Context) {
	ls, ok := s.store.(ledgerLeaser)
	if !ok {
		s.signsLedger.Store(true)
		defer s.signsLedger.Store(false)
		s.ledgerLoop(bg)
		return
	}
	t := time.NewTicker(leaseEvery)
	defer t.Stop()
	var lastErr string
	for {
		lease, err := ls.TryLease(bg, pgstore.LockLedgerSigner)
		switch {
		case bg.Err() != nil:
			if lease != nil {
				lease.Release(context.Background())
			}
			return
		case err != nil:
			if err.Error() != lastErr { // once per kind of failure, not every second
				s.log.Warn("ledger signer: cannot ask for the lease; retrying", "err", err)
				lastErr = err.Error()
			}
		case lease != nil:
			lastErr = ""
			s.signAsLeader(bg, lease, t.C)
		}
		select {
		case <-bg.Done():
			return
		case <-t.C:
		}
	}
}

// signAsLeader runs ledgerLoop while lease holds, checking it at every
// tick, then releases it.
func (s *Server) signAsLeader(bg context.Context, lease *pgstore.Lease, tick <-chan time.Time) {
	s.log.Info("ledger signer: this central now signs the ledger's checkpoints", "pg_pid", lease.PID())
	s.signsLedger.Store(true)
	ctx, cancel := context.WithCancel(bg)
	var wg sync.WaitGroup
	wg.Go(func() { s.ledgerLoop(ctx) })
	defer func() {
		cancel()
		wg.Wait()
		s.signsLedger.Store(false)
		lease.Release(context.Background())
	}()
	for {
		select {
		case <-bg.Done():
			return
		case <-tick:
		}
		cctx, ccancel := context.WithTimeout(bg, leaseCheckTimeout)
		err := lease.Check(cctx)
		ccancel()
		if err != nil {
			if bg.Err() == nil {
				s.log.Warn("ledger signer: lease lost; this central stops signing checkpoints", "err", err)
			}
			return
		}
	}
}

// SignsLedger reports whether this central signs the ledger's checkpoints
// now (it holds the signer's lease, or its store has one process).
func (s *Server) SignsLedger() bool { return s.signsLedger.Load() }

// retryJetStream runs f until it succeeds, fails for good, or ctx is
// done. A cluster that has just started (or lost a node) answers
// "temporarily unavailable" until its servers have elected a meta leader,
// and "no suitable peers for placement" until they know each other: the
// central starting with it waits rather than fails.
func (s *Server) retryJetStream(ctx context.Context, what string, f func(context.Context) error) error {
	start := time.Now()
	last := start
	for {
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := f(actx)
		cancel()
		if err == nil {
			return nil
		}
		if !transientJS(err) || ctx.Err() != nil {
			return fmt.Errorf("%s: %w (is JetStream enabled on every NATS server, and has the cluster a quorum?)", what, err)
		}
		if now := time.Now(); now.Sub(last) >= 10*time.Second {
			s.log.Warn("waiting for JetStream", "for", what, "waited", now.Sub(start).Round(time.Second), "err", err)
			last = now
		}
		sleep := time.NewTimer(250 * time.Millisecond)
		select {
		case <-ctx.Done():
			sleep.Stop()
		case <-sleep.C:
		}
	}
}

// JetStream's error codes of a cluster still forming.
const (
	jsErrNoPeers       = 10005 // no suitable peers for placement
	jsErrClusterNotAvl = 10008 // JetStream system temporarily unavailable
)

// transientJS reports whether a JetStream call may succeed if repeated
// shortly: timeouts, no responders, a cluster without meta leader or
// without its peers yet.
func transientJS(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code == 503 || apiErr.ErrorCode == jsErrNoPeers || apiErr.ErrorCode == jsErrClusterNotAvl
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrJetStreamNotEnabled) ||
		errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrDisconnected)
}

// usersRefreshEvery is how often a central reads the kiosks that other
// centrals sharing its store enrolled or decommissioned (refreshUsers).
var usersRefreshEvery = 10 * time.Second

// refreshUsers brings the NATS users up to date with the store, which
// several centrals may share: a device enrolled since the last look (by
// another central) is added, a device decommissioned (by any central:
// the audit event) is removed, and the users are applied — the users file
// of an external cluster rewritten — only if that changed anything. So
// every central's users file lists every kiosk within usersRefreshEvery,
// and its consumer guard knows every kiosk's watches. A device that this
// central removed itself is not added back before its audit event is
// stored: only devices new to the store are added.
func (s *Server) refreshUsers(ctx context.Context) error {
	devices, err := s.store.Devices(ctx)
	if err != nil {
		return fmt.Errorf("NATS users: list devices: %w", err)
	}
	gone, err := s.decommissioned(ctx)
	if err != nil {
		return fmt.Errorf("NATS users: %w", err)
	}
	changed := false
	s.usersMu.Lock()
	seen := make(map[string]bool, len(devices))
	for _, d := range devices {
		seen[d.ID] = true
		_, have := s.users[d.ID]
		switch {
		case gone[d.ID] && have:
			delete(s.users, d.ID)
			changed = true
		case !gone[d.ID] && !have && !s.usersSeen[d.ID]:
			s.users[d.ID] = natsUser{NKey: d.NKey, Device: d.ID, Permissions: DevicePermissions(d.Venue, d.ID)}
			changed = true
		}
	}
	s.usersSeen = seen
	s.usersMu.Unlock()
	if !changed {
		return nil
	}
	return s.applyUsers()
}

// refreshUsersLoop runs refreshUsers every usersRefreshEvery until ctx is
// done.
func (s *Server) refreshUsersLoop(ctx context.Context) {
	t := time.NewTicker(usersRefreshEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.refreshUsers(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("NATS users: cannot read the store's devices; trying again", "err", err, "in", usersRefreshEvery)
		}
	}
}

// knowNKey reads the store's devices again when nkey is not a known
// device's (a kiosk another central enrolled a moment ago), at most once
// a second.
func (s *Server) knowNKey(ctx context.Context, nkey string) {
	s.usersMu.Lock()
	for _, u := range s.users {
		if u.NKey == nkey {
			s.usersMu.Unlock()
			return
		}
	}
	// Real time, not the server's clock: this only spaces store reads.
	recent := !s.usersAskedAt.IsZero() && time.Since(s.usersAskedAt) < time.Second
	if !recent {
		s.usersAskedAt = time.Now()
	}
	s.usersMu.Unlock()
	if recent {
		return
	}
	if err := s.refreshUsers(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("NATS users: cannot read the store's devices", "err", err)
	}
}
