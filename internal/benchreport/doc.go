// Package benchreport runs the project's benchmarks and writes their
// figures into docs/benchmarks.md, so that no figure there is typed by hand.
//
// # Sections
//
// A [Section] names one `go test -bench` command and the goals its figures
// are held to. Running a section ([Section.Run]) records the machine
// ([Machine]: date, CPU model, core count, load average at start) as
// configuration lines ahead of the standard benchmark output, in one file.
// [ParseOutput] reads such a file back (with golang.org/x/perf/benchfmt)
// and [Render] turns it into a Markdown block: the machine line, the
// command, one table of every metric the benchmarks reported with
// b.ReportMetric, and the goals, each "met" or "NOT met" with its figure.
//
// # Markers
//
// In the document a generated block sits between
//
//	<!-- bench:NAME begin -->
//	<!-- bench:NAME end -->
//
// [Replace] swaps what is between the markers and leaves the rest of the
// document as it was; [ParseDoc] reads every generated block back, which
// the package's test uses to check docs/benchmarks.md.
package benchreport
