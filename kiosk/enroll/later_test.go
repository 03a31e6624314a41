package enroll_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/kiosk"
	"github.com/anshim/anshim/kiosk/enroll"
	"github.com/anshim/anshim/province"
)

// Ensure that a data directory made by `kiosk init` is enrolled in place
// with a real central: a token of another venue is refused by the central
// before it registers the device, and nothing is installed; a central of
// another province is refused; the right token keeps the device key,
// device.json and the outbox, and installs the NATS settings; a second
// enrollment is refused before the token is used.
func TestEnroll_AfterOfflineInit(t *testing.T) {
	dir := t.TempDir()
	srv, _ := startCentral(t, filepath.Join(dir, "central"), nil)
	ctx := context.Background()
	wrongVenue := token(t, srv, "v-2")
	right := token(t, srv, "v-1")

	kdir := filepath.Join(dir, "kiosk")
	dev, err := kiosk.Provision(kdir, filepath.Join(dir, "central", "province", "public.json"), "v-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	files := func() map[string][]byte {
		m := map[string][]byte{}
		for _, f := range []string{kiosk.FileDeviceKey, kiosk.FileDevice, kiosk.FileOutbox} {
			b, err := os.ReadFile(filepath.Join(kdir, f))
			if err != nil {
				t.Fatal(err)
			}
			m[f] = b
		}
		return m
	}
	before := files()
	opts := func(tok string) enroll.Options {
		return enroll.Options{Central: srv.HTTPURL(), Token: tok, Dir: kdir, BundleSHA256: srv.BundleSHA256(), Attempts: 1}
	}

	_, err = enroll.Enroll(ctx, opts(wrongVenue))
	var vm *enroll.VenueMismatchError
	if !errors.As(err, &vm) || vm.Kiosk != "v-1" || !strings.Contains(err.Error(), "the token is for venue v-2") {
		t.Fatalf("a token of v-2 for a kiosk of v-1: %v", err)
	}
	if _, err := os.Stat(filepath.Join(kdir, kiosk.FileNATS)); err == nil {
		t.Error("nats.json installed by a refused enrollment")
	}
	if devs, err := srv.Devices(ctx); err != nil || len(devs) != 0 {
		t.Errorf("the central registered a refused device: %+v, %v", devs, err)
	}

	// Another province's kiosk (initialised with other keys).
	other, err := province.Generate(rand.Reader, "other")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Save(filepath.Join(dir, "other")); err != nil {
		t.Fatal(err)
	}
	odir := filepath.Join(dir, "other-kiosk")
	if _, err := kiosk.Provision(odir, filepath.Join(dir, "other", "public.json"), "v-3", time.Now()); err != nil {
		t.Fatal(err)
	}
	o := opts(token(t, srv, "v-3"))
	o.Dir = odir
	if _, err := enroll.Enroll(ctx, o); !errors.Is(err, enroll.ErrOtherProvince) {
		t.Errorf("a kiosk of another province: %v, want ErrOtherProvince", err)
	}
	if _, err := os.Stat(filepath.Join(odir, kiosk.FileNATS)); err == nil {
		t.Error("nats.json installed for a kiosk of another province")
	}

	res, err := enroll.Enroll(ctx, opts(right))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Existing || res.Device.ID != dev.ID || res.Device.Venue != "v-1" {
		t.Errorf("enrolled %+v (existing %v), want device %s of v-1", res.Device, res.Existing, dev.ID)
	}
	after := files()
	for f, b := range before {
		if !bytes.Equal(after[f], b) {
			t.Errorf("%s changed at enrollment", f)
		}
	}
	for _, f := range []string{kiosk.FileNATS, kiosk.FileNATSKey} {
		if _, err := os.Stat(filepath.Join(kdir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	devs, err := srv.Devices(ctx)
	if i := slices.IndexFunc(devs, func(d central.DeviceStats) bool { return d.ID == dev.ID }); err != nil || i < 0 || devs[i].Venue != "v-1" {
		t.Errorf("the central's devices: %+v, %v; want %s of v-1", devs, err, dev.ID)
	}
	if _, err := enroll.Enroll(ctx, opts(token(t, srv, "v-4"))); !errors.Is(err, enroll.ErrEnrolled) {
		t.Errorf("enrolled twice: %v, want ErrEnrolled", err)
	}
}
