// Package storebench holds the store-level benchmarks of issue 4: the two
// backends of the central store (central/store/boltstore and
// central/store/pgstore) driven alike through store.Store, each figure next
// to a raw baseline measured in the same run (docs/benchmarks.md):
//
//	go test -run '^$' -bench . ./central/store/storebench
//
// The PostgreSQL halves need ANSHIM_TEST_PG (a server where the benchmarks
// may create and drop databases, as for pgstore's tests); without it they
// are skipped with a "NOT RUN" line. The default run takes about 40
// seconds on two cores (-count 3: 2 minutes). BenchmarkRetention fills
// three days of 100,000 check-ins each; with ANSHIM_BENCH_FULL=1, of 1.3
// million (a province's day): about 3 minutes for both backends (some 4.5
// GB of bbolt files and 4 GB of PostgreSQL tables at the peak, in the
// temporary directory and on the server), so give go test room:
//
//	ANSHIM_BENCH_FULL=1 go test -run '^$' -bench Retention -timeout 30m ./central/store/storebench
//
// ANSHIM_BENCH_COLD=1 evicts the files of each day from the page cache
// before it is dropped (for PostgreSQL only when the server's data
// directory is local and readable), as for a day 28 days old; at full
// scale the bbolt half then takes about 3 minutes, the PostgreSQL half 1.5.
//
// Benchmarks:
//
//   - BenchmarkIngest: check-ins/s through Ingest, batches of 200 records
//     from 1,000 devices, records spread over a KST day, 1 and 4 writers,
//     the store holding 28 days; baselines: raw bbolt put+commit of the
//     same keys and values, raw PostgreSQL COPY of the same rows into a
//     plain table with a check-in partition's columns and indexes.
//   - BenchmarkIngestLatency: p50/p99 of one Ingest of a 20-record batch,
//     interleaved with the raw baseline's single commit of the same 20
//     records; with 28 days held and with 1.
//   - BenchmarkRetention: fills three days (big batches through the
//     store's own Ingest), reports the store's size per check-in, then
//     times DropDay of each day against the raw way to drop the same rows
//     (bbolt: DeleteBucket of a bucket holding them; PostgreSQL: DROP
//     TABLE of a plain table holding them).
//
// The package has no code of its own: everything is in its _test.go files.
package storebench
