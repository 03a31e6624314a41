package wire

import "github.com/anshim/anshim/province"

// EnrollPath is the central's enrollment endpoint (HTTP POST, relative to
// its URL): an [EnrollRequest] in, an [Enrollment] out.
const EnrollPath = "/v1/enroll"

// NATSCAName is the name of the key update (kind province.KindNATSCA)
// that carries the NATS servers' CA in an [Enrollment].
const NATSCAName = "nats"

// EnrollRequest is what a kiosk sends to enroll.
type EnrollRequest struct {
	// Token is the one-time enrollment token.
	Token string `json:"token"`
	// DeviceKey is the kiosk's Ed25519 public key, base64.
	DeviceKey string `json:"device_key"`
	// NKey is the public key of the kiosk's NATS user ("U…").
	NKey string `json:"nkey"`
	// Venue, when set, is the venue a kiosk initialised offline (`kiosk
	// init`) already records check-ins for: the central refuses a token
	// of another venue, with an error that contains [VenueMismatch],
	// before it registers the device. Empty for a new kiosk, which takes
	// the token's venue.
	Venue string `json:"venue,omitempty"`
}

// VenueMismatch starts the central's refusal of an [EnrollRequest] whose
// Venue is not the token's (HTTP 409).
const VenueMismatch = "venue mismatch"

// Enrollment is the central's answer to an enrollment: what an enrolled
// kiosk needs to sync.
type Enrollment struct {
	// Device is the device's id, [DeviceID] of its key.
	Device string `json:"device"`
	Venue  string `json:"venue"`
	// Bundle is the province's public bundle.
	Bundle *province.Bundle `json:"bundle"`
	// NATSURLs are the NATS servers to connect to.
	NATSURLs []string `json:"nats_urls"`
	// Subject is where the kiosk publishes its batches ([CheckInSubject];
	// empty means that one).
	Subject string `json:"subject"`
	// InboxPrefix is the kiosk's nats.CustomInboxPrefix ([InboxPrefix];
	// empty means that one).
	InboxPrefix string `json:"inbox_prefix"`
	// NATSCA is the PEM certificate of the CA of the NATS servers, as a
	// key update of kind province.KindNATSCA named [NATSCAName], signed by
	// the province's root key: the kiosk verifies it with the bundle's
	// root key and then trusts only this CA for NATS. Absent when the NATS
	// servers' certificates chain to the system's roots, or NATS runs
	// without TLS.
	NATSCA string `json:"nats_ca,omitempty"`
}
