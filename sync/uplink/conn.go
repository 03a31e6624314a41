package uplink

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// connect dials the central. With RetryOnFailedConnect the first connect
// happens in the background: nats.Connect returns at once when the central
// is away, and fails only for a configuration error.
func (u *Uplink) connect() (*nats.Conn, error) {
	c := u.cfg
	opts := []nats.Option{
		nats.Name("anshim-kiosk " + c.Device),
		nats.CustomInboxPrefix(c.InboxPrefix),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		// bbolt is the only buffer: a publish while disconnected fails at
		// once instead of waiting in 8 MB of RAM that dies with the process.
		nats.ReconnectBufSize(-1),
		// A short, fully jittered delay: back soon after the central
		// returns, spread so that the fleet does not arrive at once.
		nats.CustomReconnectDelay(u.reconnectDelay),
		// A half-open link over a mobile network is found within a minute,
		// not the default four.
		nats.PingInterval(20 * time.Second),
		nats.MaxPingsOutstanding(3),
		nats.ConnectHandler(func(nc *nats.Conn) {
			u.log.Info("sync connected", "server", nc.ConnectedUrlRedacted())
			u.signalConnected(false)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			u.log.Info("sync reconnected", "server", nc.ConnectedUrlRedacted())
			u.signalConnected(true)
		}),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if nc.IsClosed() {
				return // our own Close at shutdown
			}
			if err == nil {
				err = errors.New("connection lost")
			}
			u.setErr("sync disconnected", err)
		}),
		nats.ErrorHandler(func(nc *nats.Conn, sub *nats.Subscription, err error) {
			attrs := []any{}
			if sub != nil {
				attrs = append(attrs, "subject", sub.Subject)
			}
			u.setErr("sync: server reported an error", withHint(err), attrs...)
		}),
	}
	if c.Seed != nil {
		kp, err := nkeys.FromSeed(c.Seed)
		if err != nil {
			return nil, fmt.Errorf("uplink: NATS key: %w", err)
		}
		pub, err := kp.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("uplink: NATS key: %w", err)
		}
		opts = append(opts, nats.Nkey(pub, kp.Sign))
	}
	opts = append(opts, c.Options...)
	nc, err := nats.Connect(strings.Join(c.URLs, ","), opts...)
	if err != nil {
		return nil, fmt.Errorf("uplink: connect to %s: %w (check the URLs in nats.json)", redact(c.URLs), err)
	}
	if !nc.IsConnected() {
		u.log.Info("sync: central not reachable yet, retrying in the background", "servers", redact(c.URLs))
	}
	return nc, nil
}

// withHint adds what to check to the errors a kiosk operator can act on.
func withHint(err error) error {
	switch {
	case errors.Is(err, nats.ErrAuthorization), errors.Is(err, nats.ErrAuthExpired), errors.Is(err, nats.ErrAuthRevoked):
		return fmt.Errorf("%w (the central does not accept this kiosk's NATS key: was it re-enrolled or removed?)", err)
	case errors.Is(err, nats.ErrPermissionViolation):
		return fmt.Errorf("%w (the kiosk's NATS permissions do not allow this: check the venue and device the central enrolled it for)", err)
	}
	return err
}
