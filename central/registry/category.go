package registry

import (
	"fmt"
	"strings"
)

// Category is what kind of place a venue is. It sets the venue's default
// stay.
type Category string

// The categories.
const (
	Restaurant Category = "restaurant"
	Cafe       Category = "cafe"
	Bar        Category = "bar"
	Bathhouse  Category = "bathhouse"
	Gym        Category = "gym"
	Karaoke    Category = "karaoke" // 노래방
	PCRoom     Category = "pc-room" // PC방
	Church     Category = "church"
	Academy    Category = "academy" // 학원
	Other      Category = "other"
)

// defaultStays are the built-in default stays, in minutes.
var defaultStays = map[Category]int{
	Restaurant: 60,
	Cafe:       45,
	Bar:        90,
	Bathhouse:  90,
	Gym:        60,
	Karaoke:    90,
	PCRoom:     120,
	Church:     90,
	Academy:    120,
	Other:      60,
}

// Categories returns every category, in the order above.
func Categories() []Category {
	return []Category{Restaurant, Cafe, Bar, Bathhouse, Gym, Karaoke, PCRoom, Church, Academy, Other}
}

// Valid reports whether c is one of the categories.
func (c Category) Valid() bool {
	_, ok := defaultStays[c]
	return ok
}

// DefaultStay returns the built-in default stay of c in minutes, or 0 for
// an unknown category.
func (c Category) DefaultStay() int { return defaultStays[c] }

// ParseCategory parses a category's name, in any case ("café" is cafe).
func ParseCategory(s string) (Category, error) {
	c := Category(strings.ToLower(strings.TrimSpace(s)))
	if c == "café" {
		c = Cafe
	}
	if !c.Valid() {
		names := make([]string, 0, len(defaultStays))
		for _, c := range Categories() {
			names = append(names, string(c))
		}
		return "", fmt.Errorf("unknown category %q (want one of %s)", s, strings.Join(names, ", "))
	}
	return c, nil
}

// Stays are the default stays of a deployment: they override the built-in
// ones of the categories they name. A nil Stays means the built-in ones.
type Stays map[Category]int

// The bounds of a stay, in minutes: a quarter of an hour to 23:45 (see
// docs/design.md).
const (
	MinStay = 15
	MaxStay = 23*60 + 45
)

// Of returns the default stay of c in minutes: the override, if any, or
// the built-in one.
func (s Stays) Of(c Category) int {
	if m, ok := s[c]; ok {
		return m
	}
	return c.DefaultStay()
}

// Validate checks that s names known categories only, with stays within
// the bounds.
func (s Stays) Validate() error {
	for _, c := range Categories() {
		if m, ok := s[c]; ok {
			if err := checkStay(m); err != nil {
				return fmt.Errorf("default stay of %s: %w", c, err)
			}
		}
	}
	for c := range s {
		if !c.Valid() {
			return fmt.Errorf("default stay of %q: unknown category", string(c))
		}
	}
	return nil
}

// checkStay checks a stay in minutes.
func checkStay(m int) error {
	if m < MinStay || m > MaxStay {
		return fmt.Errorf("%d minutes: want %d to %d", m, MinStay, MaxStay)
	}
	return nil
}
