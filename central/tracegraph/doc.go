// Package tracegraph draws a trace's chains of transmission as an SVG,
// on the server, for the investigator's console.
//
// The drawing is a degree-ring layout: the case at the centre, ring k
// for the contacts of degree k, each contact spread by angle under the
// person who exposed them (the parent on its path), children grouped by
// the venue of their exposure. Edges run from each contact to its parent;
// when a parent exposed three or more people at one venue, their edges
// meet at a small venue hub between the rings. Every node and edge has a
// tooltip (an SVG <title>); visible labels (venue and time of exposure,
// references) are drawn where they do not overlap anything else.
//
// Large traces are collapsed: above Options.Threshold contacts (default
// 300), the contacts of degree 3 and more are drawn as one node per venue
// with a count; if that is still too many, those of degree 2 and more,
// and as a last resort those of degree 1 and more.
//
// The output has no script, no style attribute and no <style> element
// (presentation attributes only, for the console's Content-Security-
// Policy), escapes every label, and is deterministic: the same Result
// gives the same bytes.
package tracegraph
