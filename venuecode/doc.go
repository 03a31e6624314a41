// Package venuecode holds the two formats of a venue's code that a
// visitor's app scans to check in online: the display code a kiosk shows
// on its screen and changes every period, and the poster code printed for
// a venue without a kiosk. Kiosks make display codes; the central makes
// posters and checks both. It sits on the ground floor with pass, checkin
// and sync/wire: it imports neither the kiosk nor the central.
//
// # Display codes (version 1)
//
// A display code is "AD1:" followed by the Base45 (RFC 9285) of:
//
//	version   u8   = 1
//	device    u8 length + bytes (1..64)
//	venue     u8 length + bytes (1..64)
//	seconds   u16 big-endian: the period length in seconds (1..3600)
//	period    u64 big-endian: Unix seconds / period length
//	signature 64 bytes: Ed25519 over "anshim-display-v1\x00" || the bytes above
//
// The kiosk signs it with its device key ([SignDisplay]); the central
// checks the signature against the enrolled device ([VerifyDisplay]), the
// venue and the period ([Display.Fresh]).
//
// # Poster codes (version 1)
//
// A poster code is "AV1:" and the Base45 encoding of a venue id and an
// issue time signed with the province's pass-signing key (see
// [IssuePoster] for the layout). The visitor's app scans it and checks in
// online, where the central compares the phone's location with the
// venue's; [VerifyPoster] accepts a code of any of the province's pass
// keys, since posters outlive key rotations.
//
// # Signatures and parsing
//
// Each format signs under its own context, different from a pass's and a
// chain head's, so no signature of one can pass for another, though a
// poster and a pass come from the same key. Parsing is strict: a text
// that does not re-encode to the same bytes is refused.
package venuecode
