// Package camera reads visitors' QR codes from a camera, in pure Go: an
// MJPEG stream from a pipe, fifo, file or command ([MJPEG], a
// [github.com/anshim/anshim/hardware/scanner.Scanner]) is cut into JPEG frames ([FrameSplitter]) and each
// frame is decoded with gozxing ([Decoder]).
//
// # Decoding
//
// gozxing alone misses codes a kiosk camera sees every day: tilted, out of
// focus, noisy, washed out. [Decoder] runs several binarizations of the
// frame (gozxing's hybrid and global-histogram binarizers, a local-mean
// threshold) over preprocessed copies (smoothed, sharpened, half size,
// contrast-stretched, inverted) and, when gozxing's best triple of finder
// patterns does not decode, tries the next best triples. The slower passes
// run only when a cheap pass found something that looks like a code, so a
// frame without a code costs a few milliseconds. Following gozxing's
// pitfalls, frames are handed over as packed grey bytes, hints are set only
// when wanted (gozxing checks them by key presence), and inverted codes get
// an inverted copy.
//
// # Measuring
//
// internal/corpus generates deterministic degraded 640×480 frames:
// synthetic classes (code widths 120–320 px, rotation up to 80°, blur,
// noise, 40 % contrast), frames without a code, and kiosk classes that
// model what the camera of an unstaffed entrance sees, each graded from
// mild to beyond what any decoder reads (a phone tilted 20–60°, motion
// smear, far codes down to 1.2 px a module, low light, glare, a finger,
// MJPEG compression, screen banding and moiré), all on cluttered
// backgrounds. TestDecodeAtLeastZbar and BenchmarkVsZbar compare the
// decoder with zbarimg (Debian's zbar-tools) on them, per class; `go run
// ./hardware/camera/internal/qrreport` prints a table per class.
package camera
