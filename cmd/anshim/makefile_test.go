package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Ensure that "make build" builds every program under cmd/ and that its
// comment (what "make build" says it makes) names each of them as bin/NAME.
func TestMakefile_Build(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	mk := string(data)
	comment := regexp.MustCompile(`(?m)^## build: (.*)$`).FindStringSubmatch(mk)
	recipe := regexp.MustCompile(`(?m)^build:.*\n((?:\t.*\n)+)`).FindStringSubmatch(mk)
	if comment == nil || recipe == nil {
		t.Fatal(`Makefile has no "## build:" comment or no build recipe`)
	}
	dirs, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		n++
		if !regexp.MustCompile(`\bbin/` + d.Name() + `\b`).MatchString(comment[1]) {
			t.Errorf("the build comment %q does not name bin/%s", comment[1], d.Name())
		}
		if !strings.Contains(recipe[1], "./cmd/"+d.Name()) && !strings.Contains(recipe[1], "./cmd/...") {
			t.Errorf("the build recipe does not build ./cmd/%s:\n%s", d.Name(), recipe[1])
		}
	}
	if n == 0 {
		t.Error("no programs under cmd/")
	}
}
