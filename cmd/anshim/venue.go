package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/anshim/anshim/internal/cli"
)

const venueUsage = `anshim venue registers venues with a running central server.`

// venueCommands is the table of "anshim venue" subcommands.
func (e *env) venueCommands() []cli.Command {
	return []cli.Command{
		{Name: "add", Summary: "register a venue with the central", Run: e.runVenueAdd},
	}
}

// runVenue runs "anshim venue".
func (e *env) runVenue(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return cli.Dispatch(ctx, "anshim venue", venueUsage, e.venueCommands(), args, stdout, stderr)
}

const venueAddUsage = `Usage: anshim venue add --central URL --admin-token-file FILE --id ID --name NAME

Add registers a venue with the central server. Its kiosks are enrolled with
tokens from 'anshim device token'; its settings reach them through NATS.
ID is 1-64 letters, digits, '-' or '_' (it becomes part of NATS subjects).

Examples:

	anshim venue add --central http://127.0.0.1:8440 \
		--admin-token-file /var/lib/anshim-central/admin.token \
		--id jeju-cafe-0042 --name 'Cafe Halla'`

// runVenueAdd runs "anshim venue add".
func (e *env) runVenueAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "anshim venue add"
	flags := cli.NewFlagSet(prog, venueAddUsage)
	c := addCentralFlags(flags)
	id := flags.String("id", "", "venue `id` (required)")
	name := flags.String("name", "", "venue `name` (required)")
	rest, err := flags.ParseArgs(args, stdout)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return cli.WithHint(cli.Usagef("unexpected argument %q", rest[0]), "run '%s --help' for usage", prog)
	}
	if *id == "" || strings.TrimSpace(*name) == "" {
		return cli.WithHint(cli.Usagef("--id and --name are required"), "run '%s --help' for usage", prog)
	}
	var v struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	err = c.call(ctx, "POST", "/v1/venues", map[string]string{"id": *id, "name": *name}, &v)
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.status == http.StatusConflict:
		return cli.WithHint(err, "venue %s exists already; make a kiosk token with 'anshim device token --venue %s'", *id, *id)
	case err != nil:
		return err
	}
	fmt.Fprintf(stdout, "added venue %s (%s)\n", v.ID, v.Name)
	return nil
}

// centralFlags are the flags that reach a central server's admin API.
type centralFlags struct {
	url, tokenFile *string
}

// addCentralFlags defines --central and --admin-token-file.
func addCentralFlags(fs *cli.FlagSet) *centralFlags {
	return &centralFlags{
		url:       fs.String("central", "http://127.0.0.1:8440", "central server's HTTP API `URL`"),
		tokenFile: fs.String("admin-token-file", "/var/lib/anshim-central/admin.token", "`file` with the central's admin token (DATA/admin.token)"),
	}
}

// apiError is an error answer of the central's API.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("central: %s (HTTP %d)", e.msg, e.status)
}

// call sends an admin request with a JSON body (nil for none) and decodes
// the JSON answer into out.
func (c *centralFlags) call(ctx context.Context, method, path string, body, out any) error {
	tok, err := os.ReadFile(*c.tokenFile)
	if err != nil {
		return cli.WithHint(fmt.Errorf("admin token: %w", err),
			"give --admin-token-file, the admin.token file in the central's data directory (readable by its owner only)")
	}
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	base := strings.TrimRight(*c.url, "/")
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return cli.WithHint(cli.Usagef("--central %q: %v", *c.url, err), "give the central's base URL, such as http://127.0.0.1:8440")
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return cli.WithHint(err, "is the central running ('central serve') and --central its HTTP address?")
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("read the central's answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
		}
		err := &apiError{status: resp.StatusCode, msg: e.Error}
		if resp.StatusCode == http.StatusUnauthorized {
			return cli.WithHint(err, "--admin-token-file must be the admin.token of this central's data directory")
		}
		return err
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("the central's answer: %w", err)
		}
	}
	return nil
}
