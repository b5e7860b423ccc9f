// Package lazyregexp is a regular expression compiled on first use rather
// than when its package is initialised.
//
// A package-level regexp.MustCompile runs at every start of minicloud, used
// or not: the validation patterns of the services (counted repetitions such
// as {1,64}, Unicode classes) compiled to about 800 KiB of heap before the
// first request, half of all that start-up allocated. Most are only needed
// by one API operation. Under `go test` the pattern is compiled at once, so
// a bad pattern still fails its package's tests rather than a request.
//
// It mirrors cmd/go/internal/lazyregexp in Go's own source.
package lazyregexp
