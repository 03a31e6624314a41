package web

import (
	"strings"
	"testing"
	"text/template/parse"

	"github.com/anshim/anshim/central/web/locale"
)

// tKeys returns the literal keys of the T and N calls under n.
func tKeys(n parse.Node, keys map[string]bool) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				tKeys(c, keys)
			}
		}
	case *parse.ActionNode:
		tKeys(n.Pipe, keys)
	case *parse.PipeNode:
		if n != nil {
			for _, c := range n.Cmds {
				tKeys(c, keys)
			}
		}
	case *parse.CommandNode:
		if len(n.Args) >= 2 {
			if id, ok := n.Args[0].(*parse.IdentifierNode); ok && (id.Ident == "T" || id.Ident == "N") {
				if s, ok := n.Args[1].(*parse.StringNode); ok {
					keys[s.Text] = true
				}
			}
		}
		for _, a := range n.Args {
			tKeys(a, keys)
		}
	case *parse.IfNode:
		tKeys(n.Pipe, keys)
		tKeys(n.List, keys)
		tKeys(n.ElseList, keys)
	case *parse.WithNode:
		tKeys(n.Pipe, keys)
		tKeys(n.List, keys)
		tKeys(n.ElseList, keys)
	case *parse.RangeNode:
		tKeys(n.Pipe, keys)
		tKeys(n.List, keys)
		tKeys(n.ElseList, keys)
	case *parse.TemplateNode:
		tKeys(n.Pipe, keys)
	}
}

// Ensure that every key a template prints with T or N, and every error
// key of the Go code, is in every catalogue; and that the templates print
// most of the catalogue (a key no template or code uses is named).
func TestTemplateKeys(t *testing.T) {
	pages, err := parseTemplates()
	if err != nil {
		t.Fatal(err)
	}
	used := make(map[string]bool)
	for _, tmpl := range pages["ko"] {
		for _, tt := range tmpl.Templates() {
			if tt.Tree != nil {
				tKeys(tt.Tree.Root, used)
			}
		}
	}
	if len(used) < 40 {
		t.Fatalf("found only %d keys in the templates: the walk misses T calls", len(used))
	}
	for _, k := range errorKeys {
		used[k] = true
	}
	for _, lang := range locale.Languages {
		have := make(map[string]bool)
		for _, k := range locale.Keys(lang) {
			have[k] = true
		}
		for k := range used {
			if !have[k] {
				t.Errorf("%s.json lacks %q, which a template or the code prints", lang, k)
			}
		}
	}
	for _, k := range locale.Keys("ko") {
		if !used[k] && !strings.HasSuffix(k, ".one") {
			t.Logf("key %q is used by no template (maybe by Go code)", k)
		}
	}
}
