package tracegraph

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode"

	"github.com/anshim/anshim/central/trace"
)

// Render writes res's contact graph to w as a standalone SVG document (an
// <svg> element, fit to embed in HTML). Venue names come from
// opts.VenueName; see Options for the rest.
func Render(w io.Writer, res *trace.Result, opts *Options) error {
	if res == nil {
		return ErrNoResult
	}
	prefix := "tracegraph"
	if opts != nil && opts.IDPrefix != "" {
		prefix = opts.IDPrefix
	}
	g := build(res, opts)
	var b bytes.Buffer
	g.write(&b, prefix)
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("tracegraph: write the SVG: %w", err)
	}
	return nil
}

// Colours of the nodes by degree (index 0: the case), and the rest.
var degreeFill = []string{"#67000d", "#d7301f", "#f28e2b", "#edc948", "#76b7b2"}

const (
	edgeStroke = "#a0a0a0"
	nodeStroke = "#333333"
	ringStroke = "#e4e4e4"
	textFill   = "#1a1a1a"
	flagStroke = "#6a3d9a"
)

func fill(degree int) string { return degreeFill[min(max(degree, 0), len(degreeFill)-1)] }

// f formats a coordinate.
func f(v float64) string {
	s := strconv.FormatFloat(math.Round(v*10)/10, 'f', 1, 64)
	if s == "-0.0" {
		return "0.0"
	}
	return s
}

// esc escapes text for XML content and attribute values (quotes too),
// replacing characters XML cannot hold.
func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s)) // a bytes.Buffer does not fail
	return b.String()
}

// textWidth estimates the width of s at size: wide characters (Hangul,
// CJK) an em, the rest about 0.6 em.
func textWidth(s string, size float64) float64 {
	w := 0.0
	for _, r := range s {
		switch {
		case r < 0x80:
			w += 0.56
		case unicode.In(r, unicode.Hangul, unicode.Han, unicode.Hiragana, unicode.Katakana):
			w += 1.0
		default:
			w += 0.7
		}
	}
	return w * size
}

// box is a rectangle taken on the drawing.
type box struct{ x0, y0, x1, y1 float64 }

func (a box) overlaps(b box) bool {
	return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1
}

// label is a placed visible label.
type label struct {
	x, y   float64
	anchor string // start, middle, end
	text   string
	size   float64
	weight string
}

// placer places labels where they overlap nothing placed before.
type placer struct {
	taken  []box
	labels []label
}

// try places text at the first of the spots (x, y, anchor) that is free.
func (p *placer) try(text string, size float64, spots ...label) bool {
	w, h := textWidth(text, size), size*1.25
	for _, s := range spots {
		x0 := s.x
		switch s.anchor {
		case "middle":
			x0 -= w / 2
		case "end":
			x0 -= w
		}
		b := box{x0 - 1, s.y - h/2, x0 + w + 1, s.y + h/2}
		free := true
		for _, t := range p.taken {
			if t.overlaps(b) {
				free = false
				break
			}
		}
		if free {
			p.taken = append(p.taken, b)
			s.text, s.size = text, size
			p.labels = append(p.labels, s)
			return true
		}
	}
	return false
}

// outward returns the spot just outside a node, on its side away from
// the centre, for a label of the given size.
func outward(n node, gap, size float64) label {
	c, s := math.Cos(n.angle), math.Sin(n.angle)
	if n.radius == 0 {
		c, s = 0, 1
	}
	switch {
	case math.Abs(c) < 0.3:
		dy := n.r + gap + size*0.65
		if s < 0 {
			dy = -dy
		}
		return label{x: n.x, y: n.y + dy, anchor: "middle"}
	case c < 0:
		return label{x: n.x - n.r - gap, y: n.y + s*n.r*0.5, anchor: "end"}
	default:
		return label{x: n.x + n.r + gap, y: n.y + s*n.r*0.5, anchor: "start"}
	}
}

// place chooses the visible labels, in order of importance: the case,
// collapsed venues, venue hubs, edges to the case's contacts and other
// direct edges, references of contacts.
func (g *graph) place() []label {
	var p placer
	for _, n := range g.nodes {
		p.taken = append(p.taken, box{n.x - n.r, n.y - n.r, n.x + n.r, n.y + n.r})
	}
	c := g.nodes[0]
	p.try(c.label, fontSize+1, label{x: 0, y: c.r + 10, anchor: "middle", weight: "bold"}, label{x: 0, y: -c.r - 10, anchor: "middle", weight: "bold"})
	for _, n := range g.nodes {
		if n.kind == kindVenue {
			o := outward(n, 4, fontSize)
			p.try(n.label, fontSize, o, label{x: o.x, y: o.y - 12, anchor: o.anchor}, label{x: o.x, y: o.y + 12, anchor: o.anchor})
		}
	}
	for _, n := range g.nodes {
		if n.kind == kindGroup {
			text := n.label + " (" + strconv.Itoa(n.count) + ")"
			o := outward(n, 3, fontSize-1)
			p.try(text, fontSize-1, o,
				label{x: n.x + n.r + 3, y: n.y, anchor: "start"}, label{x: n.x - n.r - 3, y: n.y, anchor: "end"},
				label{x: n.x, y: n.y - n.r - 8, anchor: "middle"}, label{x: n.x, y: n.y + n.r + 8, anchor: "middle"})
		}
	}
	for _, e := range g.edges {
		if e.label == "" {
			continue
		}
		a, b := g.nodes[e.from], g.nodes[e.to]
		var spots []label
		for _, t := range []float64{0.5, 0.62, 0.38, 0.74} {
			x, y := a.x+(b.x-a.x)*t, a.y+(b.y-a.y)*t
			spots = append(spots, label{x: x, y: y, anchor: "middle"}, label{x: x, y: y - 9, anchor: "middle"}, label{x: x, y: y + 9, anchor: "middle"})
		}
		p.try(e.label, fontSize-2, spots...)
	}
	for _, n := range g.nodes {
		if n.kind == kindContact {
			p.try(n.label, fontSize-2, outward(n, 2, fontSize-2))
		}
	}
	return p.labels
}

// minWidth is the least width of the drawing, for the legend.
const minWidth = 560.0

// write writes the SVG.
func (g *graph) write(b *bytes.Buffer, prefix string) {
	labels := g.place()
	// The drawing's bounds: nodes, rings, labels and curves.
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	grow := func(a, b, c, d float64) {
		x0, y0, x1, y1 = min(x0, a), min(y0, b), max(x1, c), max(y1, d)
	}
	for _, n := range g.nodes {
		grow(n.x-n.r, n.y-n.r, n.x+n.r, n.y+n.r)
	}
	for _, r := range g.rings {
		grow(-r, -r, r, r)
	}
	for _, l := range labels {
		w := textWidth(l.text, l.size)
		x := l.x
		switch l.anchor {
		case "middle":
			x -= w / 2
		case "end":
			x -= w
		}
		grow(x, l.y-l.size, x+w, l.y+l.size)
	}
	const pad = 16.0
	width := max(x1-x0+2*pad, minWidth)
	var leg bytes.Buffer
	top := g.legend(&leg, width) + pad
	height := top + y1 - y0 + pad
	cx, cy := (width-(x1-x0))/2-x0, top-y0

	id := esc(prefix)
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" class="tracegraph" viewBox="0 0 %s %s" width="%s" height="%s" role="img" aria-labelledby="%s-title %s-desc" font-family="sans-serif" font-size="%s">`+"\n",
		f(width), f(height), f(width), f(height), id, id, f(fontSize))
	fmt.Fprintf(b, `<title id="%s-title">%s</title>`+"\n", id, esc(g.words.title))
	fmt.Fprintf(b, `<desc id="%s-desc">%s</desc>`+"\n", id, esc(g.description()))
	fmt.Fprintf(b, `<rect width="%s" height="%s" fill="#ffffff"/>`+"\n", f(width), f(height))
	b.Write(leg.Bytes())
	fmt.Fprintf(b, `<g transform="translate(%s %s)">`+"\n", f(cx), f(cy))

	fmt.Fprintf(b, `<g class="rings" fill="none" stroke="%s">`+"\n", ringStroke)
	for _, r := range g.rings {
		fmt.Fprintf(b, `<circle cx="0" cy="0" r="%s"/>`+"\n", f(r))
	}
	b.WriteString("</g>\n")

	fmt.Fprintf(b, `<g class="edges" fill="none" stroke="%s">`+"\n", edgeStroke)
	for _, e := range g.edges {
		a, z := g.nodes[e.from], g.nodes[e.to]
		width := ""
		if e.count > 1 {
			width = fmt.Sprintf(` stroke-width="%s"`, f(min(1+math.Log2(float64(e.count)), 6)))
		}
		if g.nodes[e.to].kind == kindVenue {
			width += ` stroke-opacity="0.55"`
		}
		fmt.Fprintf(b, `<line class="edge" x1="%s" y1="%s" x2="%s" y2="%s"%s><title>%s</title></line>`+"\n",
			f(a.x), f(a.y), f(z.x), f(z.y), width, esc(e.title))
	}
	b.WriteString("</g>\n")

	fmt.Fprintf(b, `<g class="nodes" stroke="%s">`+"\n", nodeStroke)
	for _, n := range g.nodes {
		switch n.kind {
		case kindCase:
			fmt.Fprintf(b, `<circle class="node case" cx="0" cy="0" r="%s" fill="%s" stroke-width="2"><title>%s</title></circle>`+"\n",
				f(n.r), fill(0), esc(n.title))
		case kindContact:
			extra := ""
			if n.flagged {
				extra = fmt.Sprintf(` stroke="%s" stroke-width="2"`, flagStroke)
			}
			fmt.Fprintf(b, `<circle class="node contact d%d" cx="%s" cy="%s" r="%s" fill="%s"%s><title>%s</title></circle>`+"\n",
				n.degree, f(n.x), f(n.y), f(n.r), fill(n.degree), extra, esc(n.title))
		case kindGroup:
			fmt.Fprintf(b, `<path class="node group" d="M%s %sl%s %s %s %s %s %s%s" fill="#ffffff" stroke-width="1.5"><title>%s</title></path>`+"\n",
				f(n.x), f(n.y-n.r), f(n.r), f(n.r), f(-n.r), f(n.r), f(-n.r), f(-n.r), "z", esc(n.title))
		case kindVenue:
			fmt.Fprintf(b, `<g class="node venue d%d"><title>%s</title><circle cx="%s" cy="%s" r="%s" fill="%s" stroke-width="1.5"/>`,
				n.degree, esc(n.title), f(n.x), f(n.y), f(n.r), fill(n.degree))
			fmt.Fprintf(b, `<text x="%s" y="%s" dy="0.35em" text-anchor="middle" font-weight="bold" stroke="none" fill="%s">%s</text></g>`+"\n",
				f(n.x), f(n.y), textFill, esc(n.text))
		}
	}
	b.WriteString("</g>\n")

	fmt.Fprintf(b, `<g class="labels" fill="%s" stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke">`+"\n", textFill)
	for _, l := range labels {
		weight := ""
		if l.weight != "" {
			weight = ` font-weight="` + l.weight + `"`
		}
		fmt.Fprintf(b, `<text x="%s" y="%s" dy="0.35em" text-anchor="%s" font-size="%s"%s>%s</text>`+"\n",
			f(l.x), f(l.y), l.anchor, f(l.size), weight, esc(l.text))
	}
	b.WriteString("</g>\n</g>\n</svg>\n")
}

// legend writes the legend across the top: the colours of the degrees
// drawn, the hubs and flags present. It returns its height.
func (g *graph) legend(b *bytes.Buffer, width float64) float64 {
	type item struct {
		shape string // circle, diamond, hub
		fill  string
		edge  string
		text  string
	}
	items := []item{{"circle", fill(0), nodeStroke, g.words.caseName}}
	for d := 1; d < len(g.degrees); d++ {
		if g.degrees[d] > 0 {
			items = append(items, item{"circle", fill(d), nodeStroke, fmt.Sprintf(g.words.degree, d)})
		}
	}
	hasGroup, flagged := false, false
	for _, n := range g.nodes {
		hasGroup = hasGroup || n.kind == kindGroup
		flagged = flagged || n.flagged
	}
	if hasGroup {
		items = append(items, item{"diamond", "#ffffff", nodeStroke, g.words.group})
	}
	if g.cut > 0 {
		items = append(items, item{"hub", "#ffffff", nodeStroke, fmt.Sprintf(g.words.collapsed, g.cut)})
	}
	if flagged {
		items = append(items, item{"circle", "#ffffff", flagStroke, g.words.flagName})
	}
	fmt.Fprintf(b, `<g class="legend" stroke="%s">`+"\n", nodeStroke)
	x, y := 16.0, 20.0
	for _, it := range items {
		w := 22 + textWidth(it.text, fontSize) + 18
		if x+w > width-8 && x > 16 {
			x, y = 16, y+24
		}
		switch it.shape {
		case "circle":
			sw := "1"
			if it.edge == flagStroke {
				sw = "2"
			}
			fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="6" fill="%s" stroke="%s" stroke-width="%s"/>`, f(x+6), f(y), it.fill, it.edge, sw)
		case "diamond":
			fmt.Fprintf(b, `<path d="M%s %sl6 6 -6 6 -6 -6z" fill="%s" stroke-width="1.5"/>`, f(x+6), f(y-6), it.fill)
		case "hub":
			fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="8" fill="%s" stroke-width="1.5"/>`, f(x+6), f(y), it.fill)
		}
		fmt.Fprintf(b, `<text x="%s" y="%s" dy="0.35em" stroke="none" fill="%s">%s</text>`+"\n", f(x+18), f(y), textFill, esc(it.text))
		x += w
	}
	b.WriteString("</g>\n")
	return y + 12
}
