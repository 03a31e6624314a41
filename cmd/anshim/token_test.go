package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/ledger"
	"github.com/anshim/anshim/province"
)

// cmdCentral is the scripts' central server, run in the test process:
//
//	central start    start one in $WORK/central, setting $CENTRAL (its
//	                 HTTP URL), $ADMIN and $INVESTIGATOR (its token files)
//	central leaves   print its ledger's leaves, each followed by "--"
func cmdCentral(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: central start|leaves")
	}
	switch args[0] {
	case "start":
		dir := ts.MkAbs("central")
		keys, err := province.Generate(nil, "jeju")
		ts.Check(err)
		ts.Check(keys.Save(filepath.Join(dir, "province")))
		s, err := central.New(central.Config{
			Data: dir,
			HTTP: "127.0.0.1:0",
			NATS: central.NATSConfig{Listen: "127.0.0.1:-1"},
		}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		ts.Check(err)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		ts.Check(s.Start(ctx))
		ts.Defer(func() { s.Close() })
		ts.Setenv("CENTRAL", s.HTTPURL())
		ts.Setenv("ADMIN", s.AdminTokenFile())
		ts.Setenv("INVESTIGATOR", filepath.Join(dir, central.InvestigatorTokenFile))
	case "leaves":
		resp, err := http.Get(ts.Getenv("CENTRAL") + "/v1/ledger/leaves?start=0&end=1000")
		ts.Check(err)
		defer resp.Body.Close()
		var page ledger.LeavesPage
		ts.Check(json.NewDecoder(resp.Body).Decode(&page))
		for _, l := range page.Leaves {
			fmt.Fprintf(ts.Stdout(), "%s--\n", l)
		}
	default:
		ts.Fatalf("usage: central start|leaves")
	}
}
