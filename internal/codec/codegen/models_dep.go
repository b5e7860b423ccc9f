//go:build tools

package main

// This import is never built. It keeps github.com/aws/aws-sdk-go in go.mod, so
// `go list -m` finds the pinned module whose models/ directory codegen and the
// codec's conformance tests read; go mod tidy would otherwise drop it.
import _ "github.com/aws/aws-sdk-go/aws/endpoints"
