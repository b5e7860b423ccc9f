// Package logport is how minicloud's own components write to CloudWatch
// Logs — an RDS instance's exported engine log today, ECS's awslogs driver
// and Session Manager transcripts later — without reaching into the logs
// service: they hold a Writer, the logs service implements it.
package logport

import (
	"context"
	"time"
)

// Event is one log event as a source produced it.
type Event struct {
	Time    time.Time
	Message string
}

// Writer appends events to CloudWatch Logs.
type Writer interface {
	// Write appends events to stream in group of the account's region,
	// creating the group and the stream when they do not exist, as AWS's
	// services do for the groups they own (/aws/rds/instance/<id>/<log>).
	// Events older than the group's retention or outside PutLogEvents'
	// time window are dropped, as they would be for a client; Write
	// returns once the kept events are stored.
	Write(ctx context.Context, account, region, group, stream string, events []Event) error
}

// Groups tells whether a log group exists: a service that delivers to a
// group its caller names (Route 53's query logging) refuses a missing one
// rather than creating it.
type Groups interface {
	GroupExists(ctx context.Context, account, region, group string) (bool, error)
}
