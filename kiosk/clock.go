package kiosk

import (
	"crypto/rand"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/anshim/anshim/checkin"
	"golang.org/x/sys/unix"
)

// Stamp is a moment as the kiosk knows it: its wall clock, how far that clock
// is trusted, and the boot-relative monotonic time that stays right when the
// wall clock is wrong.
type Stamp struct {
	Wall    time.Time
	Quality checkin.TimeQuality
	Boot    [16]byte
	Mono    time.Duration
}

// Trusted reports whether the wall clock can be used for expiry checks.
func (s Stamp) Trusted() bool {
	return s.Quality != checkin.Unsynced && s.Wall.After(clockFloor)
}

// clockFloor is a date before this software existed: a wall clock earlier
// than it is wrong whatever the quality says (a Pi without an RTC boots in
// 1970 or at its last shutdown time).
var clockFloor = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Since returns how long ago s was at now, and whether that can be known:
// within one boot by the monotonic clock, across boots only when both wall
// clocks were trusted.
func (s Stamp) Since(now Stamp) (time.Duration, bool) {
	if s.Boot == now.Boot {
		return now.Mono - s.Mono, true
	}
	if s.Trusted() && now.Trusted() {
		return now.Wall.Sub(s.Wall), true
	}
	return 0, false
}

// Clock tells the kiosk the time.
type Clock interface {
	Now() Stamp
}

// SystemClock is the device's clock: wall time, CLOCK_BOOTTIME, the kernel's
// boot id, and the time quality from systemd-timesyncd's flag file or the
// presence of a hardware RTC.
type SystemClock struct {
	boot [16]byte
	// SyncedFlag is the file whose existence means NTP synchronised the clock
	// (default /run/systemd/timesync/synchronized).
	SyncedFlag string
	// RTC is the hardware clock device (default /dev/rtc0).
	RTC string
	// Offset is added to the wall clock (simulating a wrong clock in demos).
	Offset time.Duration
}

// NewSystemClock reads the boot id and returns the device clock.
func NewSystemClock() *SystemClock {
	c := &SystemClock{SyncedFlag: "/run/systemd/timesync/synchronized", RTC: "/dev/rtc0"}
	c.boot = readBootID()
	return c
}

func readBootID() [16]byte {
	var id [16]byte
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	s := strings.ReplaceAll(strings.TrimSpace(string(b)), "-", "")
	if err == nil && len(s) == 32 {
		for i := range 16 {
			id[i] = unhex(s[2*i])<<4 | unhex(s[2*i+1])
		}
		return id
	}
	rand.Read(id[:]) // no /proc: a fresh id per process start is the safe choice
	return id
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 0
}

// Now implements Clock.
func (c *SystemClock) Now() Stamp {
	var ts unix.Timespec
	mono := time.Duration(0)
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err == nil {
		mono = time.Duration(ts.Nano())
	}
	s := Stamp{Wall: time.Now().Add(c.Offset).UTC(), Boot: c.boot, Mono: mono, Quality: checkin.Unsynced}
	if c.Offset == 0 {
		if exists(c.SyncedFlag) {
			s.Quality = checkin.NTPSynced
		} else if exists(c.RTC) {
			s.Quality = checkin.RTC
		}
	}
	return s
}

func exists(path string) bool {
	if path == "" {
		return false
	}
	_, err := os.Stat(path)
	return !errors.Is(err, os.ErrNotExist) && err == nil
}
