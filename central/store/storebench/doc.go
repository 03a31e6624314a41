// Package storebench holds the store-level benchmarks of issue 4: the two
// backends of the central store (central/store/boltstore and
// central/store/pgstore) driven alike through store.Store, each figure next
// to a raw baseline measured in the same run (docs/benchmarks.md):
//
//	go test -run '^$' -bench . ./central/store/storebench
//
// The PostgreSQL halves need ANSHIM_TEST_PG (a server where the benchmarks
// may create and drop databases, as for pgstore's tests); without it they
// are skipped with a "NOT RUN" line. The default run takes 2–3 minutes on
// two cores. The retention and size benchmark fills one day with 100,000
// check-ins; with ANSHIM_BENCH_FULL=1 with 1.3 million (about 20 minutes
// for both backends, so give go test a longer -timeout):
//
//	ANSHIM_BENCH_FULL=1 go test -run '^$' -bench Retention -timeout 60m ./central/store/storebench
//
// Benchmarks:
//
//   - BenchmarkIngest: check-ins/s through Ingest, batches of 200 records
//     from 1,000 devices, records spread over a KST day, 1 and 4 writers;
//     baselines: raw bbolt put+commit of the same keys and values, raw
//     PostgreSQL COPY of the same rows into a plain table shaped like a
//     check-in partition.
//   - BenchmarkIngestLatency: p50/p99 of one Ingest of a 20-record batch,
//     interleaved with the raw baseline's single commit of 20 records.
//   - BenchmarkRetention: fills a day (big batches through the store's own
//     Ingest), reports the store's size per check-in, then times DropDay of
//     that day against the raw way to drop the same rows (bbolt:
//     DeleteBucket of a bucket holding them; PostgreSQL: DROP TABLE of a
//     plain table holding them).
//
// The package has no code of its own: everything is in its _test.go files.
package storebench
