// Package pass implements Anshim visitor passes: the compact signed token a
// visitor shows at a kiosk, as a QR code on a phone screen (an app pass) or on
// a printed card (a card pass).
//
// # Format
//
// A pass is the text [Prefix] followed by the RFC 9285 Base45 encoding of a
// 100-byte binary payload. Every character is in the QR code alphanumeric set,
// so a pass fits a version 6 QR code at error correction level M.
//
//	offset size field
//	     0    1 version (1)
//	     1    4 key id: the first 4 bytes of SHA-256(Ed25519 public key), big-endian
//	     5   16 pseudonym: the person's random 128-bit pseudonym
//	    21    1 kind: 1 app, 2 card
//	    22    4 serial, big-endian
//	    26    5 issued: Unix seconds, big-endian
//	    31    5 expires: Unix seconds, big-endian
//	    36   64 Ed25519 signature of "anshim-pass-v1\x00" || bytes 0..35
//
// The signature covers a domain-separation context so that no other message
// signed by a province key can be taken for a pass.
//
// # Parsing
//
// Parsing is strict: a text is accepted only if it is exactly the encoding that
// [Signer.Issue] would produce for its contents, so each pass has one text.
// Every rejection is an [*Error] carrying a reason code (see [Reason]) that a
// kiosk shows and counts; no error message contains the pass text or the
// pseudonym.
//
// # Verification
//
// A [Verifier] holds the province's pass keys (several at once, for key
// rotation) and an optional revocation list, and needs no network. Verifying a
// pass costs one Ed25519 signature verification and does not allocate when
// the pass is valid.
package pass
