// Package codec turns HTTP requests into operation inputs and operation outputs
// and errors into HTTP responses, for every AWS wire protocol: query, ec2, json
// (1.0 and 1.1), rest-json, rest-xml and smithy-rpc-v2-cbor.
//
// It is driven entirely by the model (package model): services never parse or
// write XML, JSON or CBOR themselves. A request decodes straight into the
// operation's generated input type, and an output encodes straight from its
// generated type to the wire, with no intermediate maps and no reflection:
// internal/codec/codegen gives every generated structure (internal/api/<svc>api,
// zz_codec.go) two methods, MarshalAWS and UnmarshalAWS (see Message). They
// address members by their position in the model's shape (model.Ref.Index)
// and call small generic helpers of this package (PutString, GetList…), so
// they carry no wire names or traits and one method serves every protocol.
// Each protocol has an Encoder and a Decoder that read the wire names,
// timestamp formats, list naming, namespaces and bindings from the
// model.Ref each call names. Members are written in the model's order in
// every protocol, JSON and CBOR included, and map entries in key order.
//
// Handlers run through Codec.Decode (the request into the input, then the
// model's required members) and Codec.WriteOutput, which writes into a
// pooled buffer handed to the connection each time it holds 64 KiB: an
// answer of any size costs one such buffer, not its whole size again; one
// that fits goes out at once with its Content-Length.
//
// The generic form (Generic, a map[string]any per structure; see Value)
// implements the same two interfaces, for the conformance tests, which drive
// the codec with protocol-test models no service uses (DecodeInput,
// CheckRequired, EncodeOutput, DecodeOutput).
//
// Query and EC2 requests hold at most MaxQueryParams parameters
// (InvalidQueryParameter). EC2 refuses a parameter its input does not
// declare, or a list member indexed by anything but a positive integer,
// with UnknownParameter, as EC2 does; the query protocol ignores unknown
// parameters, as AWS's query services do.
//
// It must not know about routing, accounts or any service's behaviour.
package codec
