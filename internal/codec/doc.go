// Package codec turns HTTP requests into operation inputs and operation outputs
// and errors into HTTP responses, for every AWS wire protocol: query, ec2, json
// (1.0 and 1.1), rest-json, rest-xml and smithy-rpc-v2-cbor.
//
// It is driven entirely by the model (package model): services never parse or
// write XML, JSON or CBOR themselves. Values cross the codec in one generic form
// (see Value) and are converted to and from the generated Go types with To and
// From. The codec also decodes responses, which the conformance tests use to
// check that what it writes parses back to what was meant.
//
// Query and EC2 requests hold at most MaxQueryParams parameters
// (InvalidQueryParameter). EC2 refuses a parameter its input does not
// declare, or a list member indexed by anything but a positive integer,
// with UnknownParameter, as EC2 does; the query protocol ignores unknown
// parameters, as AWS's query services do.
//
// It must not know about routing, accounts or any service's behaviour.
package codec
