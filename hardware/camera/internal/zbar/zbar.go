// Package zbar runs zbarimg (Debian's zbar-tools) over image files, the
// baseline the camera decoder is compared with.
package zbar

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"os/exec"
)

// Hint is what a machine without zbarimg needs.
const Hint = "install zbar-tools (apt-get install -y zbar-tools)"

// Args makes zbarimg quiet, print XML, and look for QR codes only, as the
// kiosk does.
var Args = []string{"-q", "--xml", "-Sdisable", "-Sqrcode.enable"}

// Path returns the zbarimg binary, or an error that carries Hint.
func Path() (string, error) {
	p, err := exec.LookPath("zbarimg")
	if err != nil {
		return "", fmt.Errorf("zbarimg not found: %s", Hint)
	}
	return p, nil
}

// Run runs one zbarimg process (bin) over paths and returns the QR code
// text it read from each path that gave one.
func Run(bin string, paths []string) (map[string]string, error) {
	cmd := exec.Command(bin, append(append([]string(nil), Args...), paths...)...)
	out, err := cmd.Output()
	var ee *exec.ExitError
	// zbarimg exits 4 when some image had no code.
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 4) {
		return nil, fmt.Errorf("zbarimg: %w", err)
	}
	// zbarimg may print D-Bus warnings on stdout before the XML.
	if i := bytes.Index(out, []byte("<barcodes")); i > 0 {
		out = out[i:]
	}
	var doc struct {
		Sources []struct {
			Href    string `xml:"href,attr"`
			Symbols []struct {
				Type string `xml:"type,attr"`
				Data string `xml:"data"`
			} `xml:"index>symbol"`
		} `xml:"source"`
	}
	if err := xml.Unmarshal(out, &doc); err != nil {
		return nil, fmt.Errorf("zbarimg output: %w", err)
	}
	texts := make(map[string]string)
	for _, s := range doc.Sources {
		for _, sym := range s.Symbols {
			if sym.Type == "QR-Code" {
				texts[s.Href] = sym.Data
			}
		}
	}
	return texts, nil
}
