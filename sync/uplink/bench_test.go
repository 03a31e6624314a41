package uplink_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/anshim/anshim/kiosk"
	"github.com/anshim/anshim/sync/uplink"
	"github.com/anshim/anshim/sync/wire"
)

// BenchmarkCatchUp measures a catch-up after an outage: N records waiting
// in the outbox (the file copied fresh for each round) until the last is
// acknowledged and removed, with the default batch size and window, to a
// real embedded nats-server with a file-stored stream. Compare its MB/s
// with BenchmarkRawPublish.
func BenchmarkCatchUp(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			tmpl := provision(b)
			tmpl.open(b)
			tmpl.fillBy(b, n, 256)
			tmpl.close()
			fi, err := os.Stat(filepath.Join(tmpl.dir, kiosk.FileOutbox))
			if err != nil {
				b.Fatal(err)
			}
			srv := startNATS(b, nil)
			_, js := srv.connect(nil)
			var elapsed time.Duration
			var bytes int64
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				// A new stream each round: the old one's duplicate window
				// would answer every batch as already stored.
				js.DeleteStream(context.Background(), wire.Stream)
				stream := createStream(b, js)
				ob := copyOutbox(b, tmpl)
				cfg := tmpl.config(srv.URL, nil)
				cfg.Outbox, cfg.BackoffMin, cfg.BackoffMax, cfg.AckTimeout = ob, 0, 0, 0
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				b.StartTimer()
				t0 := time.Now()
				go func() { done <- uplink.Run(ctx, cfg) }()
				for {
					if p, _ := ob.Pending(); p == 0 {
						break
					}
					time.Sleep(time.Millisecond)
				}
				elapsed += time.Since(t0)
				b.StopTimer()
				cancel()
				if err := <-done; err != nil {
					b.Fatal(err)
				}
				info, _ := stream.Info(context.Background())
				bytes += int64(info.State.Bytes)
				if info.State.Msgs == 0 {
					b.Fatal("nothing stored")
				}
				ob.Close()
			}
			b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "records/s")
			b.SetBytes(bytes / int64(b.N)) // MB/s: stored stream bytes
			b.ReportMetric(float64(fi.Size())/1e6, "outbox-MB")
		})
	}
}

// copyOutbox copies the template kiosk's outbox to a new directory and
// opens it.
func copyOutbox(b *testing.B, tmpl *testKiosk) *kiosk.Outbox {
	b.Helper()
	dst := filepath.Join(b.TempDir(), kiosk.FileOutbox)
	in, err := os.Open(filepath.Join(tmpl.dir, kiosk.FileOutbox))
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
	ob, err := kiosk.OpenOutbox(dst, tmpl.dev.PrivateKey())
	if err != nil {
		b.Fatal(err)
	}
	return ob
}

// BenchmarkRawPublish is the baseline of BenchmarkCatchUp: JetStream
// publishes of 64 KiB messages to the same kind of stream, each waiting for
// its PubAck (window=1), and asynchronously with 8 in flight (window=8).
func BenchmarkRawPublish(b *testing.B) {
	for _, window := range []int{1, 8} {
		b.Run(fmt.Sprintf("window=%d", window), func(b *testing.B) {
			srv := startNATS(b, nil)
			nc, err := nats.Connect(srv.URL)
			if err != nil {
				b.Fatal(err)
			}
			defer nc.Close()
			js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(window))
			if err != nil {
				b.Fatal(err)
			}
			createStream(b, js)
			data := make([]byte, 64<<10)
			rand.Read(data)
			subject := wire.CheckInSubject(testVenue, "k-bench")
			ctx := context.Background()
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			for i := range b.N {
				id := jetstream.WithMsgID(fmt.Sprint("raw/", i))
				if window == 1 {
					if _, err := js.Publish(ctx, subject, data, id); err != nil {
						b.Fatal(err)
					}
					continue
				}
				if _, err := js.PublishAsync(subject, data, id); err != nil {
					b.Fatal(err)
				}
			}
			<-js.PublishAsyncComplete()
		})
	}
}
