package feedback

import (
	"context"
	"errors"
)

// Multi returns an Indicator that shows each event on every one of
// indicators, in order (nil ones are skipped). A failing indicator does not
// stop the others; Indicate returns their errors joined.
func Multi(indicators ...Indicator) Indicator {
	m := make(multi, 0, len(indicators))
	for _, in := range indicators {
		if in != nil {
			m = append(m, in)
		}
	}
	return m
}

type multi []Indicator

func (m multi) Indicate(ctx context.Context, ev Event) error {
	var errs []error
	for _, in := range m {
		if err := in.Indicate(ctx, ev); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
