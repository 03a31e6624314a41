package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"text/template"
	"time"
)

// DefaultBody is the webhook body when Webhook.Body is nil: JSON with the
// recipient, the whole text and the caller's reference.
const DefaultBody = `{"to":{{json .To}},"text":{{json .Body}},"ref":{{json .Ref}}}`

// Webhook defaults.
const (
	DefaultMaxAttempts = 5
	DefaultBaseDelay   = 500 * time.Millisecond
	DefaultMaxDelay    = 30 * time.Second
)

// ErrGaveUp is the error of a Webhook that sent a message MaxAttempts
// times without success, or got an answer that retrying cannot change (a
// 4xx other than 408 and 429).
var ErrGaveUp = errors.New("notify: webhook gave up")

// ParseBody parses a webhook body template (text/template). It is
// executed with the Message; besides its fields, .Body is the whole text
// and the function json quotes a value as JSON ({{json .To}}).
func ParseBody(text string) (*template.Template, error) {
	t, err := template.New("body").Option("missingkey=error").
		Funcs(template.FuncMap{"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		}}).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("notify: webhook body template: %w", err)
	}
	return t, nil
}

var defaultBody = template.Must(ParseBody(DefaultBody))

// Webhook is a Sender that POSTs each message to an SMS gateway. A 2xx
// answer is success; a network error, 408, 429 or 5xx is tried again after
// a jittered exponential backoff, up to MaxAttempts tries; another answer
// gives up at once. Every try is reported to OnAttempt.
type Webhook struct {
	// URL is the gateway's endpoint.
	URL string
	// Auth is the value of the Authorization header ("Bearer …"); none
	// when empty.
	Auth string
	// Body is the request body's template (see ParseBody); nil means
	// DefaultBody. ContentType is its type (default application/json).
	Body        *template.Template
	ContentType string
	// Client sends the requests (default: a client with a 10 s timeout).
	Client *http.Client
	// MaxAttempts bounds the tries of a message (default 5). The n-th retry
	// waits a random time in [d/2, d] with d = BaseDelay·2ⁿ⁻¹ capped at
	// MaxDelay (defaults 500 ms and 30 s).
	MaxAttempts int
	BaseDelay   time.Duration
	MaxDelay    time.Duration
	// OnAttempt, if set, is called after every try, from the goroutine of
	// Send.
	OnAttempt func(Attempt)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

var _ Sender = (*Webhook)(nil)

var defaultClient = &http.Client{Timeout: 10 * time.Second}

// backoff returns the wait before try n+1 (n ≥ 1).
func (w *Webhook) backoff(n int) time.Duration {
	base, maxd := w.BaseDelay, w.MaxDelay
	if base <= 0 {
		base = DefaultBaseDelay
	}
	if maxd <= 0 {
		maxd = DefaultMaxDelay
	}
	d := base
	for i := 1; i < n && d < maxd; i++ {
		d *= 2
	}
	d = min(d, maxd)
	return d/2 + rand.N(d/2+1)
}

// Send implements Sender.
func (w *Webhook) Send(ctx context.Context, m Message) (Receipt, error) {
	tmpl := w.Body
	if tmpl == nil {
		tmpl = defaultBody
	}
	var body bytes.Buffer
	if err := tmpl.Execute(&body, struct {
		Message
		Body string
	}{m, m.Body()}); err != nil {
		return Receipt{}, fmt.Errorf("notify: webhook body: %w", err)
	}
	now, client, maxAttempts := time.Now, defaultClient, w.MaxAttempts
	if w.Now != nil {
		now = w.Now
	}
	if w.Client != nil {
		client = w.Client
	}
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	var last error
	for n := 1; n <= maxAttempts; n++ {
		if n > 1 {
			t := time.NewTimer(w.backoff(n - 1))
			select {
			case <-ctx.Done():
				t.Stop()
				return Receipt{}, fmt.Errorf("notify: webhook: %w (after %d attempts, last: %v)", ctx.Err(), n-1, last)
			case <-t.C:
			}
		}
		a := Attempt{N: n, At: now().UTC()}
		id, status, retry, err := w.try(ctx, client, body.Bytes())
		a.Status = status
		if err != nil {
			a.Err = err.Error()
		}
		if w.OnAttempt != nil {
			w.OnAttempt(a)
		}
		if err == nil {
			return Receipt{ID: id, Attempts: n, Sent: a.At}, nil
		}
		last = err
		if ctx.Err() != nil {
			return Receipt{}, fmt.Errorf("notify: webhook: %w (after %d attempts, last: %v)", ctx.Err(), n, last)
		}
		if !retry {
			return Receipt{}, fmt.Errorf("%w after %d attempts: %v", ErrGaveUp, n, last)
		}
	}
	return Receipt{}, fmt.Errorf("%w after %d attempts: %v", ErrGaveUp, maxAttempts, last)
}

// try posts body once. It returns the gateway's message id (its answer's
// "id" when it is JSON with one), the HTTP status, and whether a failure
// is worth another try. Errors never hold the body.
func (w *Webhook) try(ctx context.Context, client *http.Client, body []byte) (id string, status int, retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return "", 0, false, fmt.Errorf("request: %w", err)
	}
	ct := w.ContentType
	if ct == "" {
		ct = "application/json"
	}
	req.Header.Set("Content-Type", ct)
	if w.Auth != "" {
		req.Header.Set("Authorization", w.Auth)
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) { // *url.Error: its text repeats the URL, which may hold a key
			err = ue.Unwrap()
		}
		return "", 0, true, fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	status = resp.StatusCode
	if status/100 == 2 {
		var ans struct {
			ID any `json:"id"`
		}
		if json.Unmarshal(data, &ans) == nil && ans.ID != nil {
			id = strings.Trim(fmt.Sprint(ans.ID), `"`)
		}
		return id, status, false, nil
	}
	retry = status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
	return "", status, retry, fmt.Errorf("gateway answered %s", resp.Status)
}
