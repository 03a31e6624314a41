package web

import "fmt"

// chart is a bar chart of daily check-in counts, drawn by the server as
// an SVG (business_venue.html): no script, no visitor, counts only.
type chart struct {
	Bars  []bar
	Ticks []tick // day labels under some bars
	Lines []tick // the count scale's gridlines
	Total int
	Max   int
	Days  []dayRow // the same counts as a table, for screen readers
}

type bar struct {
	X, Y, W, H float64
	Title      string // "2026-12-06: 12"
}

type tick struct {
	X, Y  float64
	Label string
}

type dayRow struct {
	Day   string
	Count int
}

// The chart's viewBox.
const (
	chartW, chartH = 560.0, 200.0
	chartLeft      = 40.0 // room for the scale
	chartRight     = 20.0 // room for the last day's label
	chartBottom    = 22.0 // room for the day labels
)

// drawChart lays out the bars of counts, oldest first.
func drawChart(counts []DayCount) chart {
	var c chart
	for _, d := range counts {
		c.Total += d.Count
		c.Max = max(c.Max, d.Count)
	}
	top := niceMax(c.Max)
	plotH := chartH - chartBottom - 8
	slot := (chartW - chartLeft - chartRight) / float64(max(len(counts), 1))
	for i, d := range counts {
		h := plotH * float64(d.Count) / float64(top)
		x := chartLeft + float64(i)*slot
		day := d.Day.Format("2006-01-02")
		c.Bars = append(c.Bars, bar{X: x + slot*0.15, Y: chartH - chartBottom - h, W: slot * 0.7, H: h, Title: fmt.Sprintf("%s: %d", day, d.Count)})
		if (len(counts)-1-i)%7 == 0 { // today and every week before
			c.Ticks = append(c.Ticks, tick{X: x + slot/2, Y: chartH - 6, Label: d.Day.Format("1/2")})
		}
		c.Days = append(c.Days, dayRow{Day: day, Count: d.Count})
	}
	for _, v := range []int{0, top / 2, top} {
		c.Lines = append(c.Lines, tick{X: chartLeft - 6, Y: chartH - chartBottom - plotH*float64(v)/float64(top), Label: fmt.Sprint(v)})
	}
	return c
}

// niceMax is the top of the scale for a largest count m: at least 4, and
// even, so that its half is whole.
func niceMax(m int) int {
	top := max(m, 4)
	for _, step := range []int{2, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000} {
		if top <= step*5 {
			return (top + step - 1) / step * step
		}
	}
	return (top + 9999) / 10000 * 10000
}
