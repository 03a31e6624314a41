package wire

import "strings"

// IsStreamDelivery reports whether a message with this reply subject was
// delivered by a JetStream consumer (its reply is the server's "$JS.ACK."
// or flow-control subject) rather than sent by a client. No request or
// notice of the sync protocol comes that way: the central and the kiosks
// drop such messages unread, so that a push consumer pointed at one of
// their subjects by a stolen kiosk credential (nats-server#8274; the
// central's consumer guard deletes it within milliseconds) cannot make
// them work, answer or raise alerts.
func IsStreamDelivery(reply string) bool {
	return strings.HasPrefix(reply, "$JS.")
}
