package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/internal/logtest"
	"github.com/anshim/anshim/province"
	"github.com/anshim/anshim/sync/wire"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"central": func() { os.Exit(run()) },
	})
}

// TestScript runs the command lines in testdata/script/*.txtar against the
// real central binary.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"keygen": cmdKeygen,
		},
	})
}

// cmdKeygen is "keygen DIR": province keys in DIR, as 'anshim keygen'.
func cmdKeygen(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: keygen DIR")
	}
	k, err := province.Generate(nil, "jeju")
	ts.Check(err)
	ts.Check(k.Save(ts.MkAbs(args[0])))
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer = logtest.Buffer

// Ensure that "central serve" starts, serves the API, enrolls a kiosk,
// stops on a cancelled context (SIGTERM), and that "central stats" then
// reads its store.
func TestServe_Stats(t *testing.T) {
	dir := t.TempDir()
	keys, err := province.Generate(nil, "jeju")
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Save(filepath.Join(dir, "keys")); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	urls := make(chan string, 1)
	e := &env{started: func(httpURL, _ string) { urls <- httpURL }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- e.main(ctx, []string{"serve", "--data", data, "--keys", filepath.Join(dir, "keys"),
			"--http", "127.0.0.1:0", "--nats-listen", "127.0.0.1:-1"}, &stdout, &stderr)
	}()
	var base string
	select {
	case base = <-urls:
	case code := <-exit:
		t.Fatalf("serve exited with %d:\n%s\n%s", code, stderr.String(), stdout.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	sum, _ := keys.Bundle().SHA256()
	for _, want := range []string{"central: HTTP API     " + base, "central: NATS         tls://127.0.0.1:", "central: admin token  " + filepath.Join(data, "admin.token"),
		"central: bundle sha256 " + sum + " (kiosk enroll --bundle-sha256)", "central: NATS CA      " + filepath.Join(data, "nats-tls", "ca.pem")} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	tok, err := os.ReadFile(filepath.Join(data, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	post := func(path string, body any, admin bool, out any) int {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
		if admin {
			req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil {
			json.NewDecoder(resp.Body).Decode(out)
		}
		return resp.StatusCode
	}
	venue := map[string]any{"id": "cafe-1", "name": "Cafe", "business_number": "123-45-67891", "address": "제주시 중앙로 1",
		"category": "cafe", "location": map[string]float64{"lat": 33.4996, "lon": 126.5312}, "owner_phone": "010-1234-5678", "status": "approved"}
	if code := post("/v1/venues", venue, true, nil); code != 201 {
		t.Fatalf("add venue: %d", code)
	}
	var token central.Token
	if code := post("/v1/venues/cafe-1/tokens", nil, true, &token); code != 201 {
		t.Fatalf("token: %d", code)
	}
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	nk, _ := nkeys.CreateUser()
	nkPub, _ := nk.PublicKey()
	var enr wire.Enrollment
	if code := post("/v1/enroll", wire.EnrollRequest{Token: token.Token, DeviceKey: base64.StdEncoding.EncodeToString(pub), NKey: nkPub}, false, &enr); code != 200 {
		t.Fatalf("enroll: %d", code)
	}

	// While it runs, stats says the store is busy.
	var out, errOut bytes.Buffer
	if code := new(env).main(context.Background(), []string{"stats", "--data", data}, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "central: hint: a central server is running") {
		t.Errorf("stats on a running server: exit %d\n%s", code, errOut.String())
	}

	cancel()
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("serve exited with %d:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	var logLine map[string]any
	first, _, _ := strings.Cut(stdout.String(), "\n")
	if err := json.Unmarshal([]byte(first), &logLine); err != nil {
		t.Errorf("log is not JSON lines: %q", first)
	}

	out.Reset()
	errOut.Reset()
	if code := new(env).main(context.Background(), []string{"stats", "--data", data}, &out, &errOut); code != 0 {
		t.Fatalf("stats: exit %d\n%s", code, errOut.String())
	}
	var stats []map[string]any
	if err := json.Unmarshal(out.Bytes(), &stats); err != nil {
		t.Fatalf("stats output %q: %v", out.String(), err)
	}
	if len(stats) != 1 || stats[0]["id"] != enr.Device || stats[0]["venue"] != "cafe-1" {
		t.Errorf("stats = %v", stats)
	}
	for _, f := range []string{"id", "venue", "records", "last_seq", "quarantined"} {
		if _, ok := stats[0][f]; !ok {
			t.Errorf("stats lack %q", f)
		}
	}
}

// Ensure that "central serve" with its NATS or HTTP port taken fails
// within seconds, naming the port, with a hint, and without logging that
// NATS is ready when its own port is taken.
func TestServe_PortInUse(t *testing.T) {
	dir := t.TempDir()
	keys, err := province.Generate(nil, "jeju")
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Save(filepath.Join(dir, "keys")); err != nil {
		t.Fatal(err)
	}
	for _, flag := range []string{"--nats-listen", "--http"} {
		t.Run(flag, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			args := map[string]string{"--nats-listen": "127.0.0.1:-1", "--http": "127.0.0.1:0"}
			args[flag] = ln.Addr().String()
			var stdout, stderr bytes.Buffer
			start := time.Now()
			code := new(env).main(context.Background(), []string{"serve", "--data", filepath.Join(t.TempDir(), "data"),
				"--keys", filepath.Join(dir, "keys"), "--http", args["--http"], "--nats-listen", args["--nats-listen"]}, &stdout, &stderr)
			took := time.Since(start)
			port := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
			if code != 1 || !strings.Contains(stderr.String(), "central: error: ") || !strings.Contains(stderr.String(), ":"+port+": bind: address already in use") ||
				!strings.Contains(stderr.String(), "central: hint: another program listens on that port") {
				t.Errorf("serve with %s taken: exit %d\n%s", flag, code, stderr.String())
			}
			if took > 5*time.Second {
				t.Errorf("serve took %v to fail, want at once", took)
			}
			if flag == "--nats-listen" && strings.Contains(stdout.String(), "Server is ready") {
				t.Errorf("logged \"Server is ready\":\n%s", stdout.String())
			}
		})
	}
}

// Ensure that "central serve --nats-insecure" serves plaintext NATS and
// says so in a WARN line, and that keys without a root signing key are
// refused with the command that adds one.
func TestServe_InsecureAndNoRoot(t *testing.T) {
	dir := t.TempDir()
	keys, err := province.Generate(nil, "jeju")
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Save(filepath.Join(dir, "keys")); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	e := &env{started: func(_, natsURL string) { urls <- natsURL }}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- e.main(ctx, []string{"serve", "--data", filepath.Join(dir, "data"), "--keys", filepath.Join(dir, "keys"),
			"--http", "127.0.0.1:0", "--nats-listen", "127.0.0.1:-1", "--nats-insecure"}, &stdout, &stderr)
	}()
	select {
	case u := <-urls:
		if !strings.HasPrefix(u, "nats://") {
			t.Errorf("NATS URL %s, want nats://", u)
		}
	case code := <-exit:
		t.Fatalf("serve exited with %d:\n%s\n%s", code, stderr.String(), stdout.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	cancel()
	<-exit
	if !strings.Contains(stdout.String(), `"level":"WARN","msg":"NATS without TLS (nats.insecure / --nats-insecure)`) {
		t.Errorf("no WARN line:\n%s", stdout.String())
	}

	// Keys made before the root key existed.
	if err := os.Remove(filepath.Join(dir, "keys", province.RootKeyFile)); err != nil {
		t.Fatal(err)
	}
	var out2, err2 syncBuffer
	code := new(env).main(context.Background(), []string{"serve", "--data", filepath.Join(dir, "data2"), "--keys", filepath.Join(dir, "keys"),
		"--http", "127.0.0.1:0", "--nats-listen", "127.0.0.1:-1"}, &out2, &err2)
	if code != 1 || !strings.Contains(err2.String(), "no root signing key") ||
		!strings.Contains(err2.String(), "anshim keygen --dir "+filepath.Join(dir, "keys")+" --add-root") {
		t.Errorf("exit %d:\n%s", code, err2.String())
	}
}
