package central

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/anshim/anshim/sync/wire"
)

// WitnessKeySubject returns the subject of a device's key in
// wire.BucketWitness: the only one of the bucket it may publish to.
func WitnessKeySubject(device string) string { return "$KV." + wire.BucketWitness + "." + device }

// WatchCreateSubject returns the pattern of the consumer-create requests
// a device may send for bucket: $JS.API.CONSUMER.CREATE.KV_<bucket>.<name>.<filter>
// with a filter inside the bucket, the form nats.go (v1.55, server 2.9 and
// later) sends for a watch of one key pattern. The server checks that the
// filter in the subject is the filter of the request. Not allowed: the
// legacy forms CONSUMER.CREATE.<stream> (no name) and CONSUMER.CREATE.<stream>.<name>
// (no filter, or several), and CONSUMER.DURABLE.CREATE.
func WatchCreateSubject(bucket string) string {
	return "$JS.API.CONSUMER.CREATE.KV_" + bucket + ".*.$KV." + bucket + ".>"
}

// durableCreateDeny is denied to devices explicitly, whatever the allow
// list says: the legacy API that creates durable consumers.
const durableCreateDeny = "$JS.API.CONSUMER.DURABLE.CREATE.>"

// DevicePermissions returns the NATS permissions of an enrolled device:
//
//   - publish its batches to anshim.checkins.<venue>.<device> (a publish to
//     a stream needs no JetStream API subject: the PubAck goes to the
//     reply inbox);
//   - for each down-sync bucket B, exactly the JetStream API calls that
//     nats.go's KeyValue, Get and Watch make: $JS.API.STREAM.INFO.KV_B
//     (bind the bucket), $JS.API.CONSUMER.CREATE.KV_B.*.$KV.B.> (the
//     ordered consumer of a watch, named, with its filter subject: see
//     [WatchCreateSubject]),
//     $JS.API.CONSUMER.DELETE.KV_B.> (a watcher stopped or reset),
//     $JS.API.DIRECT.GET.KV_B.> (Get), and $JS.FC.KV_B.> (flow-control
//     replies of the watch's push consumer);
//   - the ledger (docs/sync.md, "Ledger receipts and witnesses"): publish
//     the requests anshim.ledger.receipt, anshim.ledger.consistency and
//     anshim.ledger.checkpoint (replies come to the inbox) and its fork
//     alerts to anshim.alerts.<device>; subscribe to its receipts,
//     anshim.receipts.<device>;
//   - the witness gossip bucket anshim_witness (docs/ledger.md): the
//     watch's API calls as for a down-sync bucket (no Get), and a put to
//     its own key only, $KV.anshim_witness.<device>;
//   - subscribe only below its own inbox prefix _INBOX_<device>, and to
//     its receipts.
//
// Nothing else: no other subject, no stream or consumer management, no
// access to the check-in stream's API; $JS.API.CONSUMER.DURABLE.CREATE.>
// is denied outright. NATS wildcards match whole tokens, so each bucket is
// listed by name. Subject permissions cannot see a consumer-create
// request's body (durable name, deliver subject): the central's consumer
// guard (consumerguard.go) removes what a watch would not make.
func DevicePermissions(venue, device string) *server.Permissions {
	pub := []string{wire.CheckInSubject(venue, device)}
	for _, b := range wire.DownSyncBuckets() {
		stream := "KV_" + b
		pub = append(pub,
			"$JS.API.STREAM.INFO."+stream,
			WatchCreateSubject(b),
			"$JS.API.CONSUMER.DELETE."+stream+".>",
			"$JS.API.DIRECT.GET."+stream+".>",
			"$JS.FC."+stream+".>",
		)
	}
	pub = append(pub, wire.SubjectReceiptRequest, wire.SubjectConsistencyRequest, wire.SubjectCheckpointRequest, wire.AlertSubject(device), wire.StatusSubject(device))
	// The witness gossip bucket: watch all of it, write only its own key.
	ws := "KV_" + wire.BucketWitness
	pub = append(pub,
		"$JS.API.STREAM.INFO."+ws,
		WatchCreateSubject(wire.BucketWitness),
		"$JS.API.CONSUMER.DELETE."+ws+".>",
		"$JS.FC."+ws+".>",
		WitnessKeySubject(device),
	)
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: pub, Deny: []string{durableCreateDeny}},
		Subscribe: &server.SubjectPermission{Allow: []string{wire.InboxPrefix(device) + ".>", wire.ReceiptSubject(device)}},
	}
}

// natsUser is one user of the NATS servers: the central (nil permissions:
// everything) or a device.
type natsUser struct {
	NKey        string
	Device      string // "" for the central
	Permissions *server.Permissions
}

// clonePermissions returns a deep copy of p: the server may keep and
// change what it is given.
func clonePermissions(p *server.Permissions) *server.Permissions {
	if p == nil {
		return nil
	}
	c := &server.Permissions{}
	if p.Publish != nil {
		c.Publish = &server.SubjectPermission{Allow: slices.Clone(p.Publish.Allow), Deny: slices.Clone(p.Publish.Deny)}
	}
	if p.Subscribe != nil {
		c.Subscribe = &server.SubjectPermission{Allow: slices.Clone(p.Subscribe.Allow), Deny: slices.Clone(p.Subscribe.Deny)}
	}
	return c
}

// formatDevicesConf returns the NATS configuration block with the users:
// an "authorization" block for an external NATS server to include.
func formatDevicesConf(users []natsUser) []byte {
	var b bytes.Buffer
	b.WriteString(`# anshim central: NATS users v1
# Generated by the Anshim central server; do not edit, it is rewritten at
# every start and enrollment. Include it at the top level of every NATS
# server's configuration, by a path relative to that file (nats-server
# resolves includes relative to the including file), for example
#
#     include "anshim-devices.conf"
#
# and after each change run "nats-server --signal reload" on every server,
# so that new kiosks can connect.
authorization {
  users = [
`)
	for _, u := range users {
		if u.Device == "" {
			fmt.Fprintf(&b, "    # the central server\n    {nkey: %s}\n", strconv.Quote(u.NKey))
			continue
		}
		fmt.Fprintf(&b, "    # device %s\n    {nkey: %s, permissions: {\n", u.Device, strconv.Quote(u.NKey))
		writeSubjects(&b, "publish", u.Permissions.Publish)
		writeSubjects(&b, "subscribe", u.Permissions.Subscribe)
		b.WriteString("    }}\n")
	}
	b.WriteString("  ]\n}\n")
	return b.Bytes()
}

// writeSubjects writes one "publish" or "subscribe" permission: its allow
// list and, if any, its deny list.
func writeSubjects(b *bytes.Buffer, kind string, p *server.SubjectPermission) {
	list := func(subjects []string) {
		b.WriteString("[")
		for i, s := range subjects {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.Quote(s))
		}
		b.WriteString("]")
	}
	fmt.Fprintf(b, "      %s: {allow: ", kind)
	list(p.Allow)
	if len(p.Deny) > 0 {
		b.WriteString(", deny: ")
		list(p.Deny)
	}
	b.WriteString("}\n")
}
