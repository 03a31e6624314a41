package central

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/anshim/anshim/notify"
)

// newNotifier returns the sender of the config: a function that makes a
// sender reporting each attempt to onAttempt (nil: none).
func (c *Config) newNotifier(now func() time.Time) (func(onAttempt func(notify.Attempt)) notify.Sender, error) {
	n := c.Notify
	if n.WebhookURL == "" {
		sink := &notify.FileSink{Path: c.NotifyFileOrDefault(), Now: now}
		return func(onAttempt func(notify.Attempt)) notify.Sender { return attemptSink{sink, onAttempt, now} }, nil
	}
	base := notify.Webhook{URL: n.WebhookURL, MaxAttempts: n.MaxAttempts, Now: now}
	if n.AuthFile != "" {
		b, err := os.ReadFile(n.AuthFile)
		if err != nil {
			return nil, fmt.Errorf("notify.auth_file: %w", err)
		}
		base.Auth = strings.TrimSpace(string(b))
	}
	if n.Body != "" {
		t, err := notify.ParseBody(n.Body)
		if err != nil {
			return nil, fmt.Errorf("notify.body: %w", err)
		}
		base.Body = t
	}
	return func(onAttempt func(notify.Attempt)) notify.Sender {
		w := base
		w.OnAttempt = onAttempt
		return &w
	}, nil
}

// attemptSink is a file sink that reports its one attempt.
type attemptSink struct {
	sink      *notify.FileSink
	onAttempt func(notify.Attempt)
	now       func() time.Time
}

func (a attemptSink) Send(ctx context.Context, m notify.Message) (notify.Receipt, error) {
	r, err := a.sink.Send(ctx, m)
	if a.onAttempt != nil {
		at := notify.Attempt{N: 1, At: a.now().UTC()}
		if err != nil {
			at.Err = err.Error()
		}
		a.onAttempt(at)
	}
	return r, err
}
