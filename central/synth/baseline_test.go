package synth

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The SQL baseline of tracing: the contacts of degree 1 and 2 that the
// engine finds, computed by one PostgreSQL statement over the same
// check-ins, with the people behind the tags read in plain text from
// PlainTable (no day keys, no opening of sealed parts) and the stays
// paired by window functions exactly as central/trace pairs them: an
// entry ends at the person's next check-in at its venue when that is an
// exit less than 24 h later, otherwise after the venue's default stay,
// bounded to 15 min .. 23 h 45 min. Each source stay reads its venue's
// check-ins in [start − 23 h 45, end + 24 h) by the (venue, time) index
// (a LATERAL join: the planner runs one index range scan a source, with
// run-time pruning of the day partitions); degree 2 reads each degree-1
// contact's check-ins from their first exposure by (person, day) → (day,
// tag), and their stays become the sources of degree 2.
//
// Parameters: $1 the case (a PlainTable person), $2 the window's start,
// $3 its end (isolation), $4 the end of onward exposure. Rows: person,
// degree.

// sqlStayEnd is the end of the stay of entry x (lead columns nk, nt)
// at venue v.
const sqlStayEnd = `x.time + least(greatest(CASE WHEN x.nk = 2 AND x.nt - x.time < interval '24 hours' THEN x.nt - x.time
	ELSE v.default_stay * interval '1 minute' END, interval '15 minutes'), interval '23 hours 45 minutes')`

// sqlKST is the KST date of a timestamptz.
func sqlKST(t string) string { return `((` + t + `) AT TIME ZONE 'UTC' + interval '9 hours')::date` }

// sqlMeets are the people whose stays at src.venue overlap [src.a,
// src.b): person and the start of the overlap (at).
var sqlMeets = `SELECT y.person, greatest(y.s, src.a) AS at FROM (
		SELECT x.person, x.time AS s, ` + sqlStayEnd + ` AS e FROM (
			SELECT p.person, c.kind, c.time, lead(c.kind) OVER w AS nk, lead(c.time) OVER w AS nt
			FROM checkins c JOIN ` + PlainTable + ` p ON p.day = c.day AND p.tag = c.tag
			WHERE c.venue = src.venue AND c.time >= src.a - interval '23 hours 45 minutes' AND c.time < src.b + interval '24 hours'
			  AND c.day BETWEEN ` + sqlKST(`src.a - interval '23 hours 45 minutes'`) + ` AND ` + sqlKST(`src.b + interval '24 hours'`) + `
			WINDOW w AS (PARTITION BY p.person ORDER BY c.time, c.time_ns, c.device, c.seq)) x
		JOIN venues v ON v.id = src.venue
		WHERE x.kind = 1) y
	WHERE greatest(y.s, src.a) < least(y.e, src.b)`

// sqlSources are the stays of the people of `people` (person, since)
// from since to end, clipped: (person, venue, a, b).
func sqlSources(people, end string) string {
	return `SELECT person, venue, greatest(s, since) AS a, least(e, ` + end + `) AS b FROM (
		SELECT x.person, x.since, x.venue, x.time AS s, ` + sqlStayEnd + ` AS e FROM (
			SELECT q.person, q.since, c.venue, c.kind, c.time, lead(c.kind) OVER w AS nk, lead(c.time) OVER w AS nt
			FROM ` + people + ` q
			JOIN ` + PlainTable + ` p ON p.person = q.person
			  AND p.day BETWEEN ` + sqlKST(`q.since - interval '23 hours 45 minutes'`) + ` AND ` + sqlKST(end+` + interval '24 hours'`) + `
			JOIN checkins c ON c.day = p.day AND c.tag = p.tag
			WHERE c.time >= q.since - interval '23 hours 45 minutes' AND c.time < ` + end + ` + interval '24 hours'
			WINDOW w AS (PARTITION BY q.person, c.venue ORDER BY c.time, c.time_ns, c.device, c.seq)) x
		JOIN venues v ON v.id = x.venue
		WHERE x.kind = 1) st
	WHERE greatest(s, since) < least(e, ` + end + `)`
}

// sqlDegree1 and sqlDegree2 are the baseline's statements.
var (
	sqlDegree1 = `WITH case_src AS MATERIALIZED (` + sqlSources(`(SELECT $1::integer AS person, $2::timestamptz AS since)`, `$3::timestamptz`) + `),
	d1 AS MATERIALIZED (
		SELECT m.person, min(m.at) AS at FROM case_src src CROSS JOIN LATERAL (` + sqlMeets + `) m
		WHERE m.person <> $1 GROUP BY m.person)
	`
	sqlTraceDegree1 = sqlDegree1 + `SELECT person, 1 FROM d1 WHERE $4::timestamptz IS NOT NULL`
	sqlTraceDegree2 = sqlDegree1 + `, d1_src AS MATERIALIZED (` + sqlSources(`(SELECT person, at AS since FROM d1)`, `$4::timestamptz`) + `),
	d2 AS (
		SELECT DISTINCT m.person FROM d1_src src CROSS JOIN LATERAL (` + sqlMeets + `) m
		WHERE m.person <> $1 AND NOT EXISTS (SELECT 1 FROM d1 WHERE d1.person = m.person))
	SELECT person, 1 FROM d1 UNION ALL SELECT person, 2 FROM d2`
)

// sqlTrace runs the baseline of degree (1 or 2) for person: the contacts'
// degrees.
func sqlTrace(ctx context.Context, conn *pgx.Conn, person Person, from, to, until time.Time, degree int) (map[Person]int, error) {
	q := sqlTraceDegree1
	switch degree {
	case 1:
	case 2:
		q = sqlTraceDegree2
	default:
		return nil, fmt.Errorf("sql baseline: degree %d: want 1 or 2", degree)
	}
	rows, _ := conn.Query(ctx, q, int32(person), from, to, until)
	out := map[Person]int{}
	var p int32
	var d int
	_, err := pgx.ForEachRow(rows, []any{&p, &d}, func() error {
		out[Person(p)] = d
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sql baseline: %w", err)
	}
	return out, nil
}

// explainSQL returns EXPLAIN (ANALYZE, BUFFERS) of the baseline.
func explainSQL(ctx context.Context, conn *pgx.Conn, person Person, from, to, until time.Time, degree int) (string, error) {
	q := sqlTraceDegree1
	if degree == 2 {
		q = sqlTraceDegree2
	}
	rows, _ := conn.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+q, int32(person), from, to, until)
	var b strings.Builder
	var line string
	_, err := pgx.ForEachRow(rows, []any{&line}, func() error {
		b.WriteString(line + "\n")
		return nil
	})
	return b.String(), err
}
