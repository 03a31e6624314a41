package web

import (
	"strconv"
	"testing"
	"time"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/web/form"
	"github.com/anshim/anshim/central/web/locale"
)

// Ensure that the keys the business portal prints by a computed name —
// the venue form's errors, the categories — are in every catalogue.
func TestBusinessKeys(t *testing.T) {
	keys := append([]string{}, form.VenueKeys...)
	for _, c := range registry.Categories() {
		keys = append(keys, "biz.category."+string(c))
	}
	keys = append(keys, "biz.notapproved")
	for _, lang := range locale.Languages {
		have := map[string]bool{}
		for _, k := range locale.Keys(lang) {
			have[k] = true
		}
		for _, k := range keys {
			if !have[k] {
				t.Errorf("%s.json lacks %q", lang, k)
			}
		}
	}
}

// Ensure that the chart draws one bar per day, the tallest reaching the
// top of its scale, labels today and each week before, and totals.
func TestDrawChart(t *testing.T) {
	day0 := time.Date(2026, 11, 9, 0, 0, 0, 0, kst)
	for _, tt := range []struct {
		name   string
		counts []int
		top    int
	}{
		{"empty", make([]int, ChartDays), 4},
		{"one visit", append(make([]int, ChartDays-1), 1), 4},
		{"busy", func() []int {
			c := make([]int, ChartDays)
			for i := range c {
				c[i] = 10 * i
			}
			return c
		}(), 300},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var in []DayCount
			total, most := 0, 0
			for i, n := range tt.counts {
				in = append(in, DayCount{Day: day0.AddDate(0, 0, i), Count: n})
				total += n
				most = max(most, n)
			}
			c := drawChart(in)
			if len(c.Bars) != ChartDays || len(c.Days) != ChartDays || c.Total != total || c.Max != most {
				t.Fatalf("%d bars, %d rows, total %d, max %d; want %d, %d, %d, %d", len(c.Bars), len(c.Days), c.Total, c.Max, ChartDays, ChartDays, total, most)
			}
			if got := c.Lines[len(c.Lines)-1].Label; got != strconv.Itoa(tt.top) {
				t.Errorf("scale top %s, want %d", got, tt.top)
			}
			for i, b := range c.Bars {
				if b.H < 0 || b.Y+b.H > chartH-chartBottom+0.001 || b.X < chartLeft || b.X+b.W > chartW-chartRight {
					t.Errorf("bar %d out of the plot: %+v", i, b)
				}
			}
			if most > 0 {
				want := (chartH - chartBottom) - (chartH-chartBottom-8)*float64(most)/float64(tt.top)
				if last := c.Bars[len(c.Bars)-1]; last.Y < want-0.001 || last.Y > want+0.001 {
					t.Errorf("the tallest bar's top is at %v, want %v", last.Y, want)
				}
			}
			if len(c.Ticks) != 4 || c.Ticks[3].Label != "12/6" {
				t.Errorf("ticks %+v, want 4 ending today, 12/6", c.Ticks)
			}
		})
	}
}
