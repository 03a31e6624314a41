package venuecode

// ValidVenueID reports whether id can name a venue: 1 to 64 letters,
// digits, '-' and '_'. A venue id is one token of a NATS subject, so it
// holds no '.', '*', '>' or space.
func ValidVenueID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
