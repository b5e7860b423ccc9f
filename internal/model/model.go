// Package model is the runtime form of an AWS API model (the api-2.json files of
// aws-sdk-go v1's models/apis). The code generator, the protocol codec and the
// protocol conformance tests all load models through this one package, so there is
// exactly one reading of the model's traits.
//
// It owns shapes, members and their wire traits; it knows nothing of HTTP.
package model

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Service is one loaded API model.
type Service struct {
	Metadata   Metadata
	Operations map[string]*Operation
	Shapes     map[string]*Shape
	// opNames lists the operations in name order, for deterministic routing tables.
	opNames []string
}

// Metadata is the model's "metadata" block.
type Metadata struct {
	APIVersion         string   `json:"apiVersion"`
	EndpointPrefix     string   `json:"endpointPrefix"`
	Protocol           string   `json:"protocol"`
	Protocols          []string `json:"protocols"`
	JSONVersion        string   `json:"jsonVersion"`
	TargetPrefix       string   `json:"targetPrefix"`
	ServiceID          string   `json:"serviceId"`
	ServiceFullName    string   `json:"serviceFullName"`
	SigningName        string   `json:"signingName"`
	XMLNamespace       string   `json:"xmlNamespace"`
	GlobalEndpoint     string   `json:"globalEndpoint"`
	UID                string   `json:"uid"`
	AWSQueryCompatible any      `json:"awsQueryCompatible"`
}

// QueryCompatible reports whether the service moved off the query protocol but
// still reports query-style error codes (the awsQueryCompatible trait).
func (m Metadata) QueryCompatible() bool { return m.AWSQueryCompatible != nil }

// Operation is one API operation.
type Operation struct {
	Name   string
	HTTP   HTTP
	Input  *Ref
	Output *Ref
	Errors []*Ref
	// Path is the parsed requestUri, used by REST routing.
	Path *URIPattern
}

// HTTP is an operation's HTTP binding.
type HTTP struct {
	Method       string `json:"method"`
	RequestURI   string `json:"requestUri"`
	ResponseCode int    `json:"responseCode"`
}

// Ref is a reference to a shape together with the traits the referencing site
// adds: a structure member, a list member, a map key or value, or an operation's
// input or output.
type Ref struct {
	ShapeName        string        `json:"shape"`
	Location         string        `json:"location"`
	LocationName     string        `json:"locationName"`
	QueryName        string        `json:"queryName"`
	Flattened        bool          `json:"flattened"`
	XMLNamespace     *XMLNamespace `json:"xmlNamespace"`
	XMLAttribute     bool          `json:"xmlAttribute"`
	TimestampFormat  string        `json:"timestampFormat"`
	JSONValue        bool          `json:"jsonvalue"`
	HostLabel        bool          `json:"hostLabel"`
	IdempotencyToken bool          `json:"idempotencyToken"`
	ResultWrapper    string        `json:"resultWrapper"`
	Streaming        bool          `json:"streaming"`

	Shape *Shape `json:"-"`
	// Name and Index are a structure member's name and its position in the
	// structure's MemberNames (generated code addresses members by it);
	// "" and 0 for other references.
	Name  string `json:"-"`
	Index int    `json:"-"`
}

// XMLNamespace is an xmlNamespace trait.
type XMLNamespace struct {
	Prefix string `json:"prefix"`
	URI    string `json:"uri"`
}

// Shape is one named shape.
type Shape struct {
	Name            string          `json:"-"`
	Type            string          `json:"type"`
	Members         map[string]*Ref `json:"members"`
	Required        []string        `json:"required"`
	Payload         string          `json:"payload"`
	Member          *Ref            `json:"member"`
	Key             *Ref            `json:"key"`
	Value           *Ref            `json:"value"`
	Flattened       bool            `json:"flattened"`
	LocationName    string          `json:"locationName"`
	TimestampFormat string          `json:"timestampFormat"`
	Exception       bool            `json:"exception"`
	Fault           bool            `json:"fault"`
	Error           *ErrorTrait     `json:"error"`
	Enum            []string        `json:"enum"`
	Streaming       bool            `json:"streaming"`
	Union           bool            `json:"union"`
	Document        bool            `json:"document"`
	XMLNamespace    *XMLNamespace   `json:"xmlNamespace"`
	Min             *float64        `json:"min"`
	Max             *float64        `json:"max"`
	Pattern         string          `json:"pattern"`
	Sensitive       bool            `json:"sensitive"`
	Event           bool            `json:"event"`
	EventStream     bool            `json:"eventstream"`

	// MemberNames lists Members in the model's declaration order: XML and
	// query output follow it, as AWS does.
	MemberNames []string `json:"-"`
	// MemberRefs are the Members in that order.
	MemberRefs []*Ref `json:"-"`
	// HasXMLAttributes reports whether a member is an XML attribute.
	HasXMLAttributes bool `json:"-"`
	required         map[string]bool
}

// ErrorTrait is the "error" trait of an exception shape.
type ErrorTrait struct {
	Code           string `json:"code"`
	HTTPStatusCode int    `json:"httpStatusCode"`
	SenderFault    bool   `json:"senderFault"`
}

// IsRequired reports whether member is in the structure's required list.
func (s *Shape) IsRequired(member string) bool { return s.required[member] }

// IsScalar reports whether the shape has no members, elements or entries.
func (s *Shape) IsScalar() bool {
	switch s.Type {
	case "structure", "list", "map":
		return false
	}
	return true
}

// OperationNames returns every operation name in sorted order.
func (s *Service) OperationNames() []string { return s.opNames }

// rawModel mirrors api-2.json. Shapes and members are decoded in two passes so
// that member order, which encoding/json maps lose, is kept.
type rawModel struct {
	Metadata   Metadata                   `json:"metadata"`
	Operations map[string]json.RawMessage `json:"operations"`
	Shapes     map[string]json.RawMessage `json:"shapes"`
}

type rawOperation struct {
	Name   string `json:"name"`
	HTTP   HTTP   `json:"http"`
	Input  *Ref   `json:"input"`
	Output *Ref   `json:"output"`
	Errors []*Ref `json:"errors"`
}

// Load parses an api-2.json document and links every reference to its shape.
func Load(data []byte) (*Service, error) {
	var raw rawModel
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("model: parse: %w", err)
	}
	return build(raw.Metadata, raw.Operations, raw.Shapes)
}

// Build links a model given as its parts; protocol tests use it, whose suites
// carry metadata and shapes separately from each case's operation.
func Build(meta Metadata, ops map[string]json.RawMessage, shapes map[string]json.RawMessage) (*Service, error) {
	return build(meta, ops, shapes)
}

func build(meta Metadata, rawOps, rawShapes map[string]json.RawMessage) (*Service, error) {
	svc := &Service{
		Metadata:   meta,
		Operations: make(map[string]*Operation, len(rawOps)),
		Shapes:     make(map[string]*Shape, len(rawShapes)),
	}
	for name, rs := range rawShapes {
		sh, err := parseShape(name, rs)
		if err != nil {
			return nil, err
		}
		svc.Shapes[name] = sh
	}
	for _, sh := range svc.Shapes {
		for _, r := range sh.refs() {
			if err := svc.link(r); err != nil {
				return nil, fmt.Errorf("model: shape %s: %w", sh.Name, err)
			}
		}
	}
	for name, ro := range rawOps {
		op, err := svc.parseOperation(name, ro)
		if err != nil {
			return nil, err
		}
		svc.Operations[name] = op
		svc.opNames = append(svc.opNames, name)
	}
	sort.Strings(svc.opNames)
	return svc, nil
}

// ParseOperation adds one operation given as JSON (a protocol test case's
// "given") to the service and returns it.
func (s *Service) ParseOperation(name string, raw json.RawMessage) (*Operation, error) {
	op, err := s.parseOperation(name, raw)
	if err != nil {
		return nil, err
	}
	s.Operations[op.Name] = op
	return op, nil
}

func (s *Service) parseOperation(name string, raw json.RawMessage) (*Operation, error) {
	var ro rawOperation
	if err := json.Unmarshal(raw, &ro); err != nil {
		return nil, fmt.Errorf("model: operation %s: %w", name, err)
	}
	if ro.Name == "" {
		ro.Name = name
	}
	op := &Operation{Name: ro.Name, HTTP: ro.HTTP, Input: ro.Input, Output: ro.Output, Errors: ro.Errors}
	if op.HTTP.Method == "" {
		op.HTTP.Method = "POST"
	}
	if op.HTTP.RequestURI == "" {
		op.HTTP.RequestURI = "/"
	}
	for _, r := range append([]*Ref{op.Input, op.Output}, op.Errors...) {
		if r == nil {
			continue
		}
		if err := s.link(r); err != nil {
			return nil, fmt.Errorf("model: operation %s: %w", op.Name, err)
		}
	}
	p, err := ParseURIPattern(op.HTTP.RequestURI)
	if err != nil {
		return nil, fmt.Errorf("model: operation %s: %w", op.Name, err)
	}
	op.Path = p
	return op, nil
}

func (s *Service) link(r *Ref) error {
	sh, ok := s.Shapes[r.ShapeName]
	if !ok {
		return fmt.Errorf("unknown shape %q", r.ShapeName)
	}
	r.Shape = sh
	return nil
}

func (sh *Shape) refs() []*Ref {
	var out []*Ref
	for _, n := range sh.MemberNames {
		out = append(out, sh.Members[n])
	}
	for _, r := range []*Ref{sh.Member, sh.Key, sh.Value} {
		if r != nil {
			out = append(out, r)
		}
	}
	return out
}

func parseShape(name string, raw json.RawMessage) (*Shape, error) {
	sh := &Shape{Name: name}
	if err := json.Unmarshal(raw, sh); err != nil {
		return nil, fmt.Errorf("model: shape %s: %w", name, err)
	}
	if sh.Type == "structure" {
		order, err := memberOrder(raw)
		if err != nil {
			return nil, fmt.Errorf("model: shape %s: %w", name, err)
		}
		sh.MemberNames = order
		if sh.Members == nil {
			sh.Members = map[string]*Ref{}
		}
		sh.MemberRefs = make([]*Ref, len(order))
		for i, n := range order {
			r := sh.Members[n]
			r.Name, r.Index = n, i
			sh.MemberRefs[i] = r
			sh.HasXMLAttributes = sh.HasXMLAttributes || r.XMLAttribute
		}
	}
	sh.required = make(map[string]bool, len(sh.Required))
	for _, r := range sh.Required {
		sh.required[r] = true
	}
	return sh, nil
}

// memberOrder returns the keys of the shape's "members" object in document order.
func memberOrder(raw json.RawMessage) ([]string, error) {
	var outer map[string]json.RawMessage
	if err := json.Unmarshal(raw, &outer); err != nil {
		return nil, err
	}
	m, ok := outer["members"]
	if !ok {
		return nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(string(m)))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var names []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		names = append(names, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return names, nil
}
