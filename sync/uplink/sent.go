package uplink

import (
	"crypto/sha256"

	"github.com/anshim/anshim/sync/wire"
)

// sentOutbox is the Outbox the sender drains when a Witness is set: it
// tells the Witness, for each batch sent, its sequence range, chain head
// and the SHA-256 of the message — what the receipt's leaf must commit to.
//
// The sender reads a batch (ReadWireBatch), stamps its Sent field,
// encodes and publishes it; a batch is therefore complete at the sender's
// next outbox call, which always comes before the batch's PubAck is
// handled (Ack) and so before its receipt can exist. Both calls come from
// the sender's goroutine only, so the batches read are encoded here
// without a race. Batches read but never stamped (too large, abandoned
// before sending) are dropped.
type sentOutbox struct {
	Outbox
	u    *Uplink
	read []*wire.Batch
}

// flush tells the Witness about the batches sent since the last call.
func (o *sentOutbox) flush() {
	for _, b := range o.read {
		if b.Sent == (wire.Stamp{}) {
			continue
		}
		data, err := b.MarshalBinary()
		if err != nil {
			continue // never sent either
		}
		sb := SentBatch{First: b.FirstSeq(), Last: b.Head.Seq, Head: b.Head.Hash, Sealed: sha256.Sum256(data)}
		if err := o.u.cfg.Witness.Sent(sb); err != nil {
			o.u.setErr("ledger: cannot remember a batch sent (its receipt will not be kept)", err, "last", sb.Last)
		}
	}
	clear(o.read)
	o.read = o.read[:0]
}

// ReadWireBatch implements Outbox.
func (o *sentOutbox) ReadWireBatch(after uint64, maxBytes int) (*wire.Batch, error) {
	o.flush()
	b, err := o.Outbox.ReadWireBatch(after, maxBytes)
	if b != nil {
		o.read = append(o.read, b)
	}
	return b, err
}

// Ack implements Outbox.
func (o *sentOutbox) Ack(seq uint64) (int, error) {
	o.flush()
	return o.Outbox.Ack(seq)
}
