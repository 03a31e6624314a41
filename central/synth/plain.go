package synth

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anshim/anshim/central/daykeys"
)

// PlainTable is the table of the people behind the tags that a
// PostgreSQL fixture carries beside the check-ins, for the SQL baseline
// of tracing: (day, tag) → person, what a store without sealed
// identities would hold in plain text. The central never has it.
const PlainTable = "synth_people"

// Person is the number of one of the scans' people in a plain table:
// residents 0 to People−1, then tourists.
type Person = uint32

// EachTag calls fn with every (day, tag, person) of the province's scans:
// each person seen on a day once, under the day's tag of their
// pseudonym.
func (p *Province) EachTag(keys Keys, fn func(d daykeys.Day, tag [16]byte, who Person) error) error {
	for di := range p.cfg.Days {
		d := p.cfg.First + daykeys.Day(di)
		seen := map[uint32]bool{}
		for _, e := range p.dayEvents(di) {
			if seen[e.who] {
				continue
			}
			seen[e.who] = true
			tag, err := keys.Tag(d, p.pseudonymOf(e.who))
			if err != nil {
				return fmt.Errorf("synth: tag of %s: %w", d, err)
			}
			if err := fn(d, tag, e.who); err != nil {
				return err
			}
		}
	}
	return nil
}

// PersonOf returns the person number of resident i (for a plain table).
func (p *Province) PersonOf(i int) Person { return Person(i) }

// WritePlainTable creates PlainTable in the database dsn names and fills
// it with EachTag, indexed both ways: by (day, tag) for the people of
// check-ins, by (person, day) for a person's check-ins.
func (p *Province) WritePlainTable(ctx context.Context, dsn string, keys Keys) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("synth: plain table: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `DROP TABLE IF EXISTS `+PlainTable+`;
		CREATE TABLE `+PlainTable+` (day date NOT NULL, tag bytea NOT NULL, person integer NOT NULL)`); err != nil {
		return fmt.Errorf("synth: plain table: %w", err)
	}
	var rows [][]any
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{PlainTable}, []string{"day", "tag", "person"}, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("synth: plain table: %w", err)
		}
		rows = rows[:0]
		return nil
	}
	err = p.EachTag(keys, func(d daykeys.Day, tag [16]byte, who Person) error {
		rows = append(rows, []any{time.Unix(int64(d)*86400, 0).UTC(), tag[:], int32(who)})
		if len(rows) == 100_000 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `ALTER TABLE `+PlainTable+` ADD PRIMARY KEY (day, tag);
		CREATE INDEX ON `+PlainTable+` (person, day);
		ANALYZE `+PlainTable); err != nil {
		return fmt.Errorf("synth: plain table: %w", err)
	}
	return nil
}
