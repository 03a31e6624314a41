package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/anshim/anshim/central/appcheckin"
	"github.com/anshim/anshim/internal/cli"
)

const visitUsage = `Usage: anshim visit --pass TEXT|--pass-file FILE --code TEXT [--lat X --lon Y [--accuracy M]] [--central URL]

Visit plays the visitor's app: it checks in at a venue online, sending the
person's pass, the code scanned at the venue and the phone's GPS fix to the
central's POST /v1/checkins (no admin token: this is what the app does).

The code is a kiosk's rotating display code ("AD1:...", shown on the
kiosk's display page, http://127.0.0.1:8080/code.json on the kiosk) or a
venue's printed poster code ("AV1:..."). A poster check-in farther from the
venue than max(150 m, 2 x accuracy), or without a fix, is accepted but
flagged suspect; so is a check-in out of reach of the person's previous one
(faster than 300 km/h), flagged impossible-travel.

An accepted check-in exits 0 and prints "accepted" and its flags. A rejected
one exits 1 with the reason: stale-period, unknown-device, wrong-venue,
bad-signature, malformed-code, unknown-venue, bad-location, rate-limited, or
pass-REASON (pass-expired, pass-revoked, ...).

Examples:

	anshim visit --central http://127.0.0.1:8440 --pass-file pass.txt \
		--code "$(curl -s http://kiosk:8080/code.json | jq -r .code)"
	anshim visit --pass 'AN1:...' --code 'AV1:...' --lat 33.4996 --lon 126.5312 --accuracy 15`

// runVisit runs "anshim visit".
func (e *env) runVisit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "anshim visit"
	flags := cli.NewFlagSet(prog, visitUsage)
	url := flags.String("central", "http://127.0.0.1:8440", "central server's HTTP API `URL`")
	passText := flags.String("pass", "", "the pass `text` (AN1:...)")
	passFile := flags.String("pass-file", "", "read the pass from `file` (- for standard input)")
	code := flags.String("code", "", "the scanned venue `code`: a display code (AD1:...) or a poster code (AV1:...) (required)")
	lat := flags.String("lat", "", "the phone's latitude in `degrees` north")
	lon := flags.String("lon", "", "the phone's longitude in `degrees` east")
	accuracy := flags.Float64("accuracy", 0, "the fix's accuracy radius in `metres` (0: unknown)")
	err := flags.ParseOnlyFlags(args, stdout)
	if err != nil {
		return err
	}
	req := appcheckin.Request{Code: strings.TrimSpace(*code), Accuracy: *accuracy}
	switch {
	case (*passText == "") == (*passFile == ""):
		return cli.WithHint(cli.Usagef("give one of --pass and --pass-file"), "the pass is the person's AN1:... text, as 'anshim person pass' or 'anshim pass issue' print it")
	case *passFile == "-":
		data, err := io.ReadAll(io.LimitReader(e.stdin, 64<<10))
		if err != nil {
			return fmt.Errorf("read standard input: %w", err)
		}
		req.Pass = strings.TrimSpace(string(data))
	case *passFile != "":
		data, err := os.ReadFile(*passFile)
		if err != nil {
			return cli.WithHint(fmt.Errorf("pass: %w", err), "give the file holding the pass text")
		}
		req.Pass = strings.TrimSpace(string(data))
	default:
		req.Pass = strings.TrimSpace(*passText)
	}
	if req.Code == "" {
		return cli.WithHint(cli.Usagef("--code is required"), "give the code scanned at the venue: the kiosk's display code or the poster's code")
	}
	if (*lat == "") != (*lon == "") {
		return flags.Usagef("give both --lat and --lon, or neither")
	}
	if *lat != "" {
		la, err1 := strconv.ParseFloat(*lat, 64)
		lo, err2 := strconv.ParseFloat(*lon, 64)
		if err1 != nil || err2 != nil {
			return cli.WithHint(cli.Usagef("--lat %q --lon %q: want decimal degrees", *lat, *lon), "for example --lat 33.4996 --lon 126.5312")
		}
		req.Lat, req.Lon = &la, &lo
	}

	res, status, err := postCheckIn(ctx, *url, req)
	if err != nil {
		return err
	}
	if res.Result != appcheckin.Accepted {
		msg := fmt.Sprintf("check-in rejected: %s", res.Reason)
		if res.Detail != "" {
			msg += " (" + res.Detail + ")"
		}
		return cli.WithHint(fmt.Errorf("%s [HTTP %d]", msg, status), "%s", visitHint(res.Reason))
	}
	fmt.Fprintf(stdout, "accepted at venue %s\n", res.Venue)
	if !res.Time.IsZero() {
		fmt.Fprintf(stdout, "time:   %s\n", res.Time.In(cli.KST()).Format(timeLayout))
	}
	if len(res.Flags) > 0 {
		fmt.Fprintf(stdout, "flags:  %s\n", strings.Join(res.Flags, ", "))
	}
	return nil
}

// postCheckIn sends the check-in and returns the central's answer.
func postCheckIn(ctx context.Context, base string, req appcheckin.Request) (appcheckin.Result, int, error) {
	var res appcheckin.Result
	data, err := json.Marshal(req)
	if err != nil {
		return res, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, "POST", strings.TrimRight(base, "/")+"/v1/checkins", bytes.NewReader(data))
	if err != nil {
		return res, 0, cli.WithHint(cli.Usagef("--central %q: %v", base, err), "give the central's base URL, such as http://127.0.0.1:8440")
	}
	hr.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		return res, 0, cli.WithHint(err, "is the central running ('central serve') and --central its HTTP address?")
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return res, resp.StatusCode, fmt.Errorf("read the central's answer: %w", err)
	}
	if err := json.Unmarshal(body, &res); err != nil || res.Result == "" {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(body))
		}
		return res, resp.StatusCode, &apiError{status: resp.StatusCode, msg: e.Error}
	}
	return res, resp.StatusCode, nil
}

// visitHint says what to do about a rejected check-in.
func visitHint(reason string) string {
	switch reason {
	case appcheckin.ReasonStalePeriod:
		return "the display code changes every period: scan the one the kiosk shows now (a photographed code expires); if it is fresh, the kiosk's clock is wrong"
	case appcheckin.ReasonUnknownDevice:
		return "the kiosk that showed this code is not enrolled: enroll it with 'kiosk enroll'"
	case appcheckin.ReasonWrongVenue:
		return "the code names another venue than the one its kiosk is enrolled at: do not accept it"
	case appcheckin.ReasonBadSignature:
		return "the code was altered or forged: do not accept it"
	case appcheckin.ReasonMalformedCode:
		return "give the code exactly as scanned, in single quotes: 'AD1:...' from a kiosk's screen or 'AV1:...' from a poster"
	case appcheckin.ReasonUnknownVenue:
		return "the venue is not registered with this central: is --central the right one?"
	case appcheckin.ReasonBadLocation:
		return "give --lat -90..90, --lon -180..180 and --accuracy in metres"
	case appcheckin.ReasonRateLimited:
		return "wait a few seconds and try again"
	case "pass-expired":
		return "issue a new pass with 'anshim person pass' or 'anshim pass issue'"
	case "pass-revoked":
		return "the pass was revoked (a lost card?): issue a new one"
	}
	if strings.HasPrefix(reason, appcheckin.ReasonPassPrefix) {
		return "check the pass with 'anshim pass verify --bundle public.json'"
	}
	return cli.HelpHint("anshim visit")
}
