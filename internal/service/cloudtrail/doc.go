// Package cloudtrail is CloudTrail (`cloudtrail`, JSON 1.1): every
// management call minicloud serves recorded as AWS writes it, and
// LookupEvents over the last 90 days.
//
// # Capture
//
// The gateway hands every request it routed to an operation to the
// Service (api.Recorder) once the answer is written: successes, the
// handlers' AWS errors and the gateway's own refusals after routing
// (signature failures; access denied once IAM enforcement exists, if it
// is decided in the same place). Record only queues the call; a writer
// goroutine builds the events (event.go: userIdentity from the caller's
// ARN — Root, IAMUser, AssumedRole and FederatedUser with their
// sessionContext, AWSService —, or, for an unsigned
// AssumeRoleWithWebIdentity, WebIdentityUser in the role's account
// (webidentity.go),
// requestParameters and responseElements from the decoded input and
// output through params.go's encoder, readOnly from the operation's verb
// with a table of exceptions in readonly.go, LookupEvents' Resources by
// member name in resources.go) and writes them. Data events (S3
// object-level) are out of scope: minicloud has no S3.
//
// # Where events live, and what survives
//
// Events are append-mostly, read by time and dropped by age, like
// CloudWatch Logs' events: they live in files of their own under
// <state-dir>/cloudtrail, one per UTC day (store.go has the format), not
// in state.db. Once a call wakes the writer it lets the calls of the
// next 10 ms queue up, then takes them all (up to 512 a write): Record
// wakes no goroutine per call, which a sequential client felt (bench
// -scenarios cloudtrail, docs/benchmarks.md). A write survives kill -9 of
// minicloud; the files are fsynced at most 100 ms later, which only a
// crash of the host can outrun. Events are written after the answer, so
// a call answered in the last ~10 ms before kill -9 (the gathering
// window plus one write) may have no event; test/cli's
// TestKillAfterAnsweredCalls kills after a longer wait and finds every
// call. A clean stop writes and fsyncs everything
// queued (the service stops after the HTTP listener). A torn tail is cut
// on open. Memory holds each event's header (time, name, source, user,
// key, resources) and place, never the event itself. The sweep (hourly
// and at start) drops events older than 90 days and deletes a day's file
// once the whole day is past. --ephemeral keeps events in memory.
//
// # LookupEvents and trails
//
// LookupEvents answers the caller's account in the request's region,
// newest first, one lookup attribute at most (AWS's eight keys), with
// StartTime/EndTime, MaxResults ≤ 50 and NextToken (which carries a digest
// of the parameters: another lookup's token is InvalidNextTokenException).
// It first waits (up to a second; the writer's 10 ms window, typically)
// for calls already queued, so a client sees its own calls at once; AWS
// takes up to 15 minutes. LookupEvents is
// itself recorded. The error codes are AWS's (its API reference lists
// them for LookupEvents and CreateTrail). Their texts could not be
// confirmed against AWS: no AWS page or public issue quotes them. One
// CloudTrail-compatible provider's error table agrees with "Lookup
// attribute value is not valid." and "A max results value of N is
// invalid. Specify max results between 1 and 50." as written here, but
// it writes the key's error without the key ("Lookup attribute key is
// not valid."). InvalidTimeRange- and InvalidNextTokenException's texts
// are minicloud's own.
//
// Trails deliver to S3, which minicloud does not have yet: CreateTrail
// answers S3BucketDoesNotExistException with moto's text (AWS's is not
// quoted anywhere public), DescribeTrails and ListTrails answer no
// trails, GetTrailStatus TrailNotFoundException.
// Trails come with S3; the other trail operations (event selectors …)
// answer NotImplemented as every unlisted operation does.
//
// It must not know how requests are routed or identities resolved: it
// reads only the api.Call the gateway gives it.
package cloudtrail
