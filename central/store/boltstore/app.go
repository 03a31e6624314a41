package boltstore

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/anshim/anshim/central/store"
)

// The visitor app's buckets (store.Apps), made by the first write:
//
//	app-codes        phone key (32) → appCodeRecord (JSON)
//	app-accounts     person id → store.AppAccount (JSON)
//	app-sessions     token hash (32) → appSessionRecord (JSON)
//	app-notices      person id ‖ 0x00 ‖ notice id → store.AppNotice (JSON)
//	app-receipts     client key (32) → appReceiptRecord (JSON)
//	app-receipts-at  u8 len ‖ device ‖ seq u64 → client key
//	app-limits       limit key (32) → full again at, Unix µs (u64)
var (
	bucketAppCodes      = []byte("app-codes")
	bucketAppAccounts   = []byte("app-accounts")
	bucketAppSessions   = []byte("app-sessions")
	bucketAppNotices    = []byte("app-notices")
	bucketAppReceipts   = []byte("app-receipts")
	bucketAppReceiptsAt = []byte("app-receipts-at")
)

type appCodeRecord struct {
	Hash    []byte    `json:"hash"`
	Consent string    `json:"consent"`
	Lang    string    `json:"lang"`
	Sent    time.Time `json:"sent"`
	Expires time.Time `json:"expires"`
	Tries   int       `json:"tries"`
}

type appSessionRecord struct {
	Person   string    `json:"person"`
	Created  time.Time `json:"created"`
	LastUsed time.Time `json:"last_used"`
	Expires  time.Time `json:"expires"`
}

type appNoticeRecord struct {
	store.AppNotice
	Person string `json:"person"`
}

type appReceiptRecord struct {
	Device  string    `json:"device"`
	Seq     uint64    `json:"seq"`
	Venue   string    `json:"venue"`
	How     string    `json:"how"`
	Flags   []string  `json:"flags"`
	Time    time.Time `json:"time"`
	Created time.Time `json:"created"`
}

func receiptAtKey(device string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(deviceKey(device, 8), seq)
}

func noticePrefix(person string) []byte { return append([]byte(person), 0) }

// PutAppCode implements store.Apps.
func (s *Store) PutAppCode(ctx context.Context, c store.AppCode) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketAppCodes)
		if err != nil {
			return err
		}
		return putJSON(b, c.Phone[:], appCodeRecord{Hash: c.Hash[:], Consent: c.Consent, Lang: c.Lang, Sent: c.Sent, Expires: c.Expires, Tries: c.Tries})
	})
	if err != nil {
		return fmt.Errorf("put app code: %w", err)
	}
	return nil
}

// TryAppCode implements store.Apps.
func (s *Store) TryAppCode(ctx context.Context, phone, hash [32]byte, now time.Time, maxTries int, consume bool) (store.AppCode, error) {
	var out store.AppCode
	var answer error // committed with the transaction
	err := s.update(ctx, func(tx *bolt.Tx) error {
		answer = nil
		b := tx.Bucket(bucketAppCodes)
		if b == nil {
			answer = store.ErrCodeExpired
			return nil
		}
		var r appCodeRecord
		if err := getJSON(b, phone[:], &r); err == store.ErrNotFound {
			answer = store.ErrCodeExpired
			return nil
		} else if err != nil {
			return err
		}
		if !now.Before(r.Expires) || r.Tries >= maxTries {
			answer = store.ErrCodeExpired
			return b.Delete(phone[:])
		}
		if !bytes.Equal(r.Hash, hash[:]) {
			r.Tries++
			answer = &store.CodeWrongError{Left: maxTries - r.Tries}
			if r.Tries >= maxTries {
				return b.Delete(phone[:])
			}
			return putJSON(b, phone[:], r)
		}
		out = store.AppCode{Phone: phone, Hash: hash, Consent: r.Consent, Lang: r.Lang, Sent: r.Sent, Expires: r.Expires, Tries: r.Tries}
		if consume {
			return b.Delete(phone[:])
		}
		return nil
	})
	if err != nil {
		return store.AppCode{}, fmt.Errorf("try app code: %w", err)
	}
	if answer != nil {
		return store.AppCode{}, answer
	}
	return out, nil
}

// PutAppAccount implements store.Apps.
func (s *Store) PutAppAccount(ctx context.Context, a store.AppAccount) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketAppAccounts)
		if err != nil {
			return err
		}
		return putJSON(b, []byte(a.Person), a)
	})
	if err != nil {
		return fmt.Errorf("put app account of %s: %w", a.Person, err)
	}
	return nil
}

// AppAccount implements store.Apps.
func (s *Store) AppAccount(ctx context.Context, person string) (store.AppAccount, error) {
	var a store.AppAccount
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAppAccounts)
		if b == nil {
			return store.ErrNotFound
		}
		return getJSON(b, []byte(person), &a)
	})
	if err != nil {
		return store.AppAccount{}, fmt.Errorf("app account of %s: %w", person, err)
	}
	return a, nil
}

// AddAppSession implements store.Apps.
func (s *Store) AddAppSession(ctx context.Context, as store.AppSession) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketAppSessions)
		if err != nil {
			return err
		}
		return putNew(b, as.Hash[:], appSessionRecord{Person: as.Person, Created: as.Created, LastUsed: as.LastUsed, Expires: as.Expires})
	})
	if err != nil {
		return fmt.Errorf("add app session: %w", err)
	}
	return nil
}

// AppSession implements store.Apps.
func (s *Store) AppSession(ctx context.Context, hash [32]byte, now time.Time) (store.AppSession, error) {
	var r appSessionRecord
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAppSessions)
		if b == nil {
			return store.ErrNotFound
		}
		if err := getJSON(b, hash[:], &r); err != nil {
			return err
		}
		if !now.Before(r.Expires) {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return store.AppSession{}, fmt.Errorf("app session: %w", err)
	}
	return store.AppSession{Hash: hash, Person: r.Person, Created: r.Created, LastUsed: r.LastUsed, Expires: r.Expires}, nil
}

// TouchAppSession implements store.Apps.
func (s *Store) TouchAppSession(ctx context.Context, hash [32]byte, now, expires time.Time) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAppSessions)
		if b == nil {
			return store.ErrNotFound
		}
		var r appSessionRecord
		if err := getJSON(b, hash[:], &r); err != nil {
			return err
		}
		r.LastUsed, r.Expires = now, expires
		return putJSON(b, hash[:], r)
	})
	if err != nil {
		return fmt.Errorf("touch app session: %w", err)
	}
	return nil
}

// endSessions deletes the person's sessions but keep's: a scan of every
// session (a person has few; the bucket holds one per device).
func endSessions(tx *bolt.Tx, person string, keep []byte) (int, error) {
	b := tx.Bucket(bucketAppSessions)
	if b == nil {
		return 0, nil
	}
	var del [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var r appSessionRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("session %x: %w", k[:4], err)
		}
		if r.Person == person && !bytes.Equal(k, keep) {
			del = append(del, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range del {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(del), nil
}

// EndAppSessions implements store.Apps.
func (s *Store) EndAppSessions(ctx context.Context, person string, keep [32]byte) (int, error) {
	var n int
	err := s.update(ctx, func(tx *bolt.Tx) error {
		var err error
		n, err = endSessions(tx, person, keep[:])
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("end app sessions of %s: %w", person, err)
	}
	return n, nil
}

// AddAppNotice implements store.Apps.
func (s *Store) AddAppNotice(ctx context.Context, n store.AppNotice) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketAppNotices)
		if err != nil {
			return err
		}
		return putNew(b, append(noticePrefix(n.Person), n.ID...), appNoticeRecord{AppNotice: n, Person: n.Person})
	})
	if err != nil {
		return fmt.Errorf("add app notice %s: %w", n.ID, err)
	}
	return nil
}

// AppNotices implements store.Apps.
func (s *Store) AppNotices(ctx context.Context, person string) ([]store.AppNotice, error) {
	var out []store.AppNotice
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAppNotices)
		if b == nil {
			return nil
		}
		prefix := noticePrefix(person)
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var r appNoticeRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("notice %q: %w", k[len(prefix):], err)
			}
			r.AppNotice.Person = r.Person
			out = append(out, r.AppNotice)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("app notices of %s: %w", person, err)
	}
	slices.SortFunc(out, func(a, b store.AppNotice) int {
		return cmp.Or(b.Sent.Compare(a.Sent), cmp.Compare(b.ID, a.ID))
	})
	return out, nil
}

// PutAppReceipt implements store.Apps.
func (s *Store) PutAppReceipt(ctx context.Context, r store.AppReceipt) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketAppReceipts)
		if err != nil {
			return err
		}
		at, err := tx.CreateBucketIfNotExists(bucketAppReceiptsAt)
		if err != nil {
			return err
		}
		rec := appReceiptRecord{Device: r.Device, Seq: r.Seq, Venue: r.Venue, How: r.How, Flags: r.Flags, Time: r.Time, Created: r.Created}
		if err := putNew(b, r.Client[:], rec); err != nil {
			return err
		}
		return at.Put(receiptAtKey(r.Device, r.Seq), r.Client[:])
	})
	if err != nil {
		return fmt.Errorf("put app receipt: %w", err)
	}
	return nil
}

func getReceipt(b *bolt.Bucket, client []byte) (store.AppReceipt, error) {
	var r appReceiptRecord
	if err := getJSON(b, client, &r); err != nil {
		return store.AppReceipt{}, err
	}
	return store.AppReceipt{Client: [32]byte(client), Device: r.Device, Seq: r.Seq, Venue: r.Venue, How: r.How,
		Flags: r.Flags, Time: r.Time, Created: r.Created}, nil
}

// AppReceipt implements store.Apps.
func (s *Store) AppReceipt(ctx context.Context, client [32]byte) (store.AppReceipt, error) {
	var out store.AppReceipt
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAppReceipts)
		if b == nil {
			return store.ErrNotFound
		}
		var err error
		out, err = getReceipt(b, client[:])
		return err
	})
	if err != nil {
		return store.AppReceipt{}, fmt.Errorf("app receipt: %w", err)
	}
	return out, nil
}

// AppReceiptAt implements store.Apps.
func (s *Store) AppReceiptAt(ctx context.Context, device string, seq uint64) (store.AppReceipt, error) {
	var out store.AppReceipt
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b, at := tx.Bucket(bucketAppReceipts), tx.Bucket(bucketAppReceiptsAt)
		if b == nil || at == nil {
			return store.ErrNotFound
		}
		client := at.Get(receiptAtKey(device, seq))
		if len(client) != 32 {
			return store.ErrNotFound
		}
		var err error
		out, err = getReceipt(b, client)
		return err
	})
	if err != nil {
		return store.AppReceipt{}, fmt.Errorf("app receipt of %s/%d: %w", device, seq, err)
	}
	return out, nil
}

// DeleteAppPerson implements store.Apps.
func (s *Store) DeleteAppPerson(ctx context.Context, person string, now time.Time) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		vb, ok := vaultView(tx)
		if !ok {
			return store.ErrNotFound
		}
		p, err := vb.get(person)
		if err != nil {
			return err
		}
		for _, del := range []struct {
			b *bolt.Bucket
			k []byte
		}{
			{vb.persons, []byte(person)},
			{vb.index, p.Index[:]},
			{vb.pseudonym, p.Pseudonym[:]},
			{vb.idle, idleKey(p.LastUsed, person)},
		} {
			if err := del.b.Delete(del.k); err != nil {
				return err
			}
		}
		if err := vb.destroyed.Put([]byte(person), encodeTime(now)); err != nil {
			return err
		}
		if b := tx.Bucket(bucketAppAccounts); b != nil {
			if err := b.Delete([]byte(person)); err != nil {
				return err
			}
		}
		if _, err := endSessions(tx, person, nil); err != nil {
			return err
		}
		if b := tx.Bucket(bucketAppNotices); b != nil {
			prefix := noticePrefix(person)
			var del [][]byte
			c := b.Cursor()
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				del = append(del, bytes.Clone(k))
			}
			for _, k := range del {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete app person %s: %w", person, err)
	}
	return nil
}

// DropApp implements store.Apps: a scan of each bucket.
func (s *Store) DropApp(ctx context.Context, before, keepFrom time.Time) (int, error) {
	n := 0
	err := s.update(ctx, func(tx *bolt.Tx) error {
		n = 0
		drop := func(bucket []byte, old func(v []byte) (bool, error), also func(v []byte) error) error {
			b := tx.Bucket(bucket)
			if b == nil {
				return nil
			}
			var del [][]byte
			var vals [][]byte
			err := b.ForEach(func(k, v []byte) error {
				o, err := old(v)
				if err != nil {
					return fmt.Errorf("%s: %w", bucket, err)
				}
				if o {
					del = append(del, bytes.Clone(k))
					vals = append(vals, bytes.Clone(v))
				}
				return nil
			})
			if err != nil {
				return err
			}
			for i, k := range del {
				if err := b.Delete(k); err != nil {
					return err
				}
				if also != nil {
					if err := also(vals[i]); err != nil {
						return err
					}
				}
			}
			n += len(del)
			return nil
		}
		if err := drop(bucketAppCodes, func(v []byte) (bool, error) {
			var r appCodeRecord
			err := json.Unmarshal(v, &r)
			return !before.Before(r.Expires), err
		}, nil); err != nil {
			return err
		}
		if err := drop(bucketAppLimits, func(v []byte) (bool, error) {
			if len(v) != 8 {
				return false, fmt.Errorf("limit of %d bytes", len(v))
			}
			return !before.Before(time.UnixMicro(int64(binary.BigEndian.Uint64(v)))), nil
		}, nil); err != nil {
			return err
		}
		if err := drop(bucketAppSessions, func(v []byte) (bool, error) {
			var r appSessionRecord
			err := json.Unmarshal(v, &r)
			return !before.Before(r.Expires), err
		}, nil); err != nil {
			return err
		}
		if err := drop(bucketAppNotices, func(v []byte) (bool, error) {
			var r appNoticeRecord
			err := json.Unmarshal(v, &r)
			return r.Sent.Before(keepFrom), err
		}, nil); err != nil {
			return err
		}
		at := tx.Bucket(bucketAppReceiptsAt)
		return drop(bucketAppReceipts, func(v []byte) (bool, error) {
			var r appReceiptRecord
			err := json.Unmarshal(v, &r)
			return r.Time.Before(keepFrom), err
		}, func(v []byte) error {
			var r appReceiptRecord
			if err := json.Unmarshal(v, &r); err != nil || at == nil {
				return err
			}
			return at.Delete(receiptAtKey(r.Device, r.Seq))
		})
	})
	if err != nil {
		return 0, fmt.Errorf("drop app data: %w", err)
	}
	return n, nil
}

// bucketAppLimits holds the app's rate limits: key (32) → the time the
// bucket is full again, Unix microseconds (u64).
var bucketAppLimits = []byte("app-limits")

// TakeAppLimit implements store.Apps.
func (s *Store) TakeAppLimit(ctx context.Context, key [32]byte, now time.Time, every time.Duration, burst int) (bool, error) {
	var ok bool
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketAppLimits)
		if err != nil {
			return err
		}
		var full time.Time
		if v := b.Get(key[:]); len(v) == 8 {
			full = time.UnixMicro(int64(binary.BigEndian.Uint64(v)))
		}
		var next time.Time
		if next, ok = store.TakeToken(full, now, every, burst); !ok {
			return nil
		}
		return b.Put(key[:], binary.BigEndian.AppendUint64(nil, uint64(next.UnixMicro())))
	})
	if err != nil {
		return false, fmt.Errorf("take app limit: %w", err)
	}
	return ok, nil
}
