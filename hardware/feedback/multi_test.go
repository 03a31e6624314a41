package feedback

import (
	"context"
	"errors"
	"slices"
	"testing"
)

type recording struct {
	name string
	log  *[]string
	err  error
}

func (r recording) Indicate(_ context.Context, ev Event) error {
	*r.log = append(*r.log, r.name+":"+ev.Result.String())
	return r.err
}

// Ensure that Multi shows every event on every indicator in order, skips
// nil ones, and carries on past failures, joining their errors.
func TestMulti(t *testing.T) {
	var log []string
	errA, errC := errors.New("a broke"), errors.New("c broke")
	m := Multi(recording{"a", &log, errA}, nil, recording{"b", &log, nil}, recording{"c", &log, errC})
	err := m.Indicate(context.Background(), Event{Result: Accepted})
	if want := []string{"a:accepted", "b:accepted", "c:accepted"}; !slices.Equal(log, want) {
		t.Errorf("calls %v, want %v", log, want)
	}
	if !errors.Is(err, errA) || !errors.Is(err, errC) {
		t.Errorf("err = %v, want both failures", err)
	}
	if err := Multi().Indicate(context.Background(), Event{Result: Rejected}); err != nil {
		t.Errorf("empty Multi = %v", err)
	}
	log = nil
	if err := Multi(recording{"b", &log, nil}).Indicate(context.Background(), Event{Result: Duplicate}); err != nil || len(log) != 1 {
		t.Errorf("single: err %v, log %v", err, log)
	}
}
