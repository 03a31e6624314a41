package natstest

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
)

// Ensure that a message stored in a stream survives Restart on the same
// URL, and that the store directory is removed when the test ends.
func TestServer_Restart_KeepsStream(t *testing.T) {
	var storeDir string
	t.Run("server", func(t *testing.T) {
		s := StartJetStream(t)
		storeDir = s.Server().StoreDir()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, js := Connect(t, s.URL)
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}, Storage: jetstream.FileStorage}); err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(ctx, "t.1", []byte("kept")); err != nil {
			t.Fatal(err)
		}
		url := s.URL
		s.Restart()
		if s.URL != url {
			t.Fatalf("URL after Restart = %s, want %s", s.URL, url)
		}
		_, js = Connect(t, s.URL)
		st, err := js.Stream(ctx, "T")
		if err != nil {
			t.Fatal(err)
		}
		msg, err := st.GetMsg(ctx, 1)
		if err != nil || string(msg.Data) != "kept" {
			t.Fatalf("message 1 after Restart = %v, %v; want \"kept\"", msg, err)
		}
	})
	if _, err := os.Stat(storeDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("store directory %s after the test: %v, want removed", storeDir, err)
	}
}

// Ensure that a server started with users refuses a client without a key
// and accepts one of them.
func TestStartJetStream_Users(t *testing.T) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	s := StartJetStream(t, &server.NkeyUser{Nkey: pub})
	if nc, err := nats.Connect(s.URL); err == nil {
		nc.Close()
		t.Fatal("a client without a key connected")
	}
	nc, _ := Connect(t, s.URL, nats.Nkey(pub, kp.Sign))
	if !nc.IsConnected() {
		t.Fatal("the user's client is not connected")
	}
}
