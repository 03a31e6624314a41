package browsertest

import (
	"os"
	"testing"
)

// Ensure that ScreenshotDir takes $ANSHIM_SCREENSHOTS and makes it.
func TestScreenshotDir(t *testing.T) {
	d := t.TempDir() + "/shots/a"
	t.Setenv("ANSHIM_SCREENSHOTS", d)
	if got := ScreenshotDir(t); got != d {
		t.Fatalf("ScreenshotDir = %q, want %q", got, d)
	}
	if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
		t.Fatalf("%s not made: %v", d, err)
	}
	t.Setenv("ANSHIM_SCREENSHOTS", "")
	if got := ScreenshotDir(t); got == d || got == "" {
		t.Fatalf("ScreenshotDir without the variable = %q", got)
	}
}

// Ensure that Required follows CI and ANSHIM_REQUIRE_BROWSER.
func TestRequired(t *testing.T) {
	for _, tc := range []struct {
		ci, req string
		want    bool
	}{{"", "", false}, {"true", "", true}, {"", "1", true}} {
		t.Setenv("CI", tc.ci)
		t.Setenv("ANSHIM_REQUIRE_BROWSER", tc.req)
		if got := Required(); got != tc.want {
			t.Errorf("CI=%q ANSHIM_REQUIRE_BROWSER=%q: Required() = %v", tc.ci, tc.req, got)
		}
	}
}
