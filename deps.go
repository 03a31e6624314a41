//go:build tools

package tools

import (
	_ "github.com/creack/pty"
	_ "github.com/makiuchi-d/gozxing"
	_ "github.com/nats-io/nats-server/v2/server"
	_ "github.com/nats-io/nats.go/jetstream"
	_ "github.com/tarm/serial"
	_ "go.etcd.io/bbolt"
	_ "golang.org/x/crypto/nacl/box"
	_ "golang.org/x/mod/sumdb/note"
	_ "golang.org/x/sys/unix"
	_ "periph.io/x/conn/v3/gpio/gpiotest"
	_ "periph.io/x/host/v3"
	_ "github.com/jackc/pgx/v5/pgxpool"
)
