package feedback

import (
	"context"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// Ensure that the indicator drives periph.io's own gpiotest fake pins: green
// and the relay on accept, red on reject, red held while out of order.
func TestGPIO_Gpiotest(t *testing.T) {
	green, red := &gpiotest.Pin{N: "GPIO17", Num: 17}, &gpiotest.Pin{N: "GPIO27", Num: 27}
	buzzer, relay := &gpiotest.Pin{N: "GPIO22", Num: 22}, &gpiotest.Pin{N: "GPIO23", Num: 23}
	g, err := NewGPIO(green, red, buzzer, relay, GPIOConfig{BeepShort: time.Millisecond, BeepLong: time.Millisecond, Hold: time.Hour, RelayPulse: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	level := func(p *gpiotest.Pin) gpio.Level { p.Lock(); defer p.Unlock(); return p.L }
	wait := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(2 * time.Second); !ok(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: green=%v red=%v relay=%v", what, level(green), level(red), level(relay))
			}
		}
	}
	g.Indicate(context.Background(), Event{Result: Accepted})
	wait("accepted", func() bool { return level(green) == gpio.High && level(red) == gpio.Low && level(relay) == gpio.High })
	g.Indicate(context.Background(), Event{Result: Rejected, Reason: "expired"})
	wait("rejected", func() bool { return level(green) == gpio.Low && level(red) == gpio.High })
	g.Indicate(context.Background(), Event{Result: OutOfOrder, Reason: "disk-full"})
	wait("out of order", func() bool { return level(red) == gpio.High && level(green) == gpio.Low })
}
