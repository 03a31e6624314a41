package docs

import (
	"regexp"
	"strings"
)

// A heading is one Markdown heading of a document and the lines it spans:
// up to the next heading of the same or a higher level.
type heading struct {
	title string
	level int
	body  []string // the lines after the heading line, code blocks included
}

// fence reports whether a line opens or closes a fenced code block, and
// its info string ("json" for "```json").
func fence(line string) (info string, ok bool) {
	t := strings.TrimSpace(line)
	if !strings.HasPrefix(t, "```") {
		return "", false
	}
	return strings.TrimSpace(strings.TrimLeft(t, "`")), true
}

// headings splits a Markdown document into its headings. Lines inside
// fenced code blocks are never headings (a shell comment starts with #).
func headings(doc string) []heading {
	lines := strings.Split(doc, "\n")
	type start struct{ at, level int }
	var starts []start
	inCode := false
	for i, l := range lines {
		if _, ok := fence(l); ok {
			inCode = !inCode
			continue
		}
		if inCode || !strings.HasPrefix(l, "#") {
			continue
		}
		level := len(l) - len(strings.TrimLeft(l, "#"))
		if level > 6 || !strings.HasPrefix(l[level:], " ") {
			continue
		}
		starts = append(starts, start{i, level})
	}
	var hs []heading
	for k, s := range starts {
		end := len(lines)
		for _, n := range starts[k+1:] {
			if n.level <= s.level {
				end = n.at
				break
			}
		}
		hs = append(hs, heading{
			title: strings.TrimSpace(lines[s.at][s.level:]),
			level: s.level,
			body:  lines[s.at+1 : end],
		})
	}
	return hs
}

// section returns the first heading whose title holds marker (such as
// "`kiosk.Config`").
func section(doc, marker string) (heading, bool) {
	for _, h := range headings(doc) {
		if strings.Contains(h.title, marker) {
			return h, true
		}
	}
	return heading{}, false
}

var codeSpan = regexp.MustCompile("`([^`]+)`")

// rowNames returns the names a section's tables document: the first cell
// of every table row outside code blocks when that cell is one code span
// ("| `gpio.green` | ..."), in order, duplicates kept.
func (h heading) rowNames() []string {
	var names []string
	inCode := false
	for _, l := range h.body {
		if _, ok := fence(l); ok {
			inCode = !inCode
			continue
		}
		t := strings.TrimSpace(l)
		if inCode || !strings.HasPrefix(t, "|") {
			continue
		}
		cells := strings.Split(strings.TrimPrefix(t, "|"), "|")
		first := strings.TrimSpace(cells[0])
		if m := codeSpan.FindStringSubmatch(first); m != nil && m[0] == first {
			names = append(names, m[1])
		}
	}
	return names
}

var flagSpan = regexp.MustCompile(`^--([a-z0-9][a-z0-9-]*)`)

// flagMentions returns the flags a section names outside code blocks, as
// code spans that start with the flag ("`--scanner SPEC`", "`--data`"),
// with a line of the section where each is named.
func (h heading) flagMentions() map[string]string {
	flags := map[string]string{}
	inCode := false
	for _, l := range h.body {
		if _, ok := fence(l); ok {
			inCode = !inCode
			continue
		}
		if inCode {
			continue
		}
		for _, m := range codeSpan.FindAllStringSubmatch(l, -1) {
			if f := flagSpan.FindStringSubmatch(m[1]); f != nil {
				if _, seen := flags[f[1]]; !seen {
					flags[f[1]] = strings.TrimSpace(l)
				}
			}
		}
	}
	return flags
}

// jsonBlocks returns the contents of the section's ```json code blocks.
func (h heading) jsonBlocks() []string {
	var blocks []string
	var cur []string
	in, isJSON := false, false
	for _, l := range h.body {
		if info, ok := fence(l); ok {
			if in {
				if isJSON {
					blocks = append(blocks, strings.Join(cur, "\n"))
				}
				in, cur = false, nil
				continue
			}
			in, isJSON = true, info == "json"
			continue
		}
		if in {
			cur = append(cur, l)
		}
	}
	return blocks
}
