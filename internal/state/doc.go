// Package state is minicloud's durable desired-state store and the small,
// protocol-independent helpers every emulated AWS service shares.
//
// What it owns:
//
//   - Store: a transactional key/value store (bbolt on disk, or an in-memory
//     twin for --ephemeral) whose Update returns only once the change is
//     durable, plus post-commit change notifications for level-triggered
//     controllers.
//   - Key layout (<account>/<region>/<service>/<kind>/<id>) and the typed,
//     JSON-encoded Table that services use instead of hand-building keys.
//   - AWS-shaped identifiers, ARNs, tags, EC2-style filters, pagination
//     tokens, client-token idempotency and the *Error value that carries an
//     AWS error code, message and HTTP status.
//
// What it must not touch: HTTP, wire protocols (query/JSON/XML), request
// signing, or any single service's business rules. Errors are plain values
// (see Error) that the gateway translates; nothing here writes a response.
// Keeping it that way lets every service and controller depend on state
// without dragging in transport concerns, and keeps it testable in isolation.
package state
