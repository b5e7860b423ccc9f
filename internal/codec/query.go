package codec

import (
	"cmp"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/minicloud/minicloud/internal/model"
)

// qnode is one level of a query request's dotted parameter names:
// "Filter.1.Value.2=x" becomes Filter → 1 → Value → 2 with value x.
type qnode struct {
	value    *string
	children map[string]*qnode
}

func (n *qnode) child(name string) *qnode {
	if n == nil || n.children == nil {
		return nil
	}
	return n.children[name]
}

func queryTree(vals url.Values) *qnode {
	root := &qnode{}
	for k, vs := range vals {
		if len(vs) == 0 {
			continue
		}
		n := root
		for _, part := range strings.Split(k, ".") {
			if n.children == nil {
				n.children = map[string]*qnode{}
			}
			c := n.children[part]
			if c == nil {
				c = &qnode{}
				n.children[part] = c
			}
			n = c
		}
		v := vs[0]
		n.value = &v
	}
	return root
}

// indexed returns the children of n whose names are positive integers, in
// index order. AWS accepts sparse indices (1, 2, 5) and orders by number.
func (n *qnode) indexed() ([]*qnode, error) {
	type kv struct {
		i int
		n *qnode
	}
	var items []kv
	for k, c := range n.children {
		i, err := strconv.Atoi(k)
		if err != nil || i < 1 {
			continue
		}
		items = append(items, kv{i, c})
	}
	if len(items) > 10000 {
		return nil, fmt.Errorf("too many list members")
	}
	sort.Slice(items, func(a, b int) bool { return items[a].i < items[b].i })
	out := make([]*qnode, len(items))
	for i, it := range items {
		out[i] = it.n
	}
	return out, nil
}

func (c *Codec) decodeQueryInput(op *model.Operation, r *Request) (map[string]any, error) {
	vals := r.Query
	if err := CheckParamCount(string(r.Body)); err != nil {
		return nil, err
	}
	if len(r.Body) > 0 {
		body, err := url.ParseQuery(string(r.Body))
		if err != nil {
			return nil, fmt.Errorf("malformed query string: %w", err)
		}
		merged := url.Values{}
		for k, v := range vals {
			merged[k] = v
		}
		for k, v := range body {
			merged[k] = v
		}
		vals = merged
	}
	if len(vals) > MaxQueryParams {
		return nil, tooManyParams()
	}
	tree := queryTree(vals)
	if c.Protocol == EC2 {
		if p := c.unknownParam(op.Input.Shape, tree, ""); p != "" {
			return nil, &Error{Code: "UnknownParameter", Message: "The parameter " + p + " is not recognized", Status: 400}
		}
	}
	return c.queryStruct(op.Input.Shape, tree)
}

// MaxQueryParams bounds the parameters of one query or EC2 request (in a
// query string or a form body): Go's net/url refuses to parse more, and
// the largest requests AWS's clients send stay far below it (CreateTags on
// 1,000 resources with 50 tags is about 1,100). Past it the request is
// refused with the query protocol's InvalidQueryParameter ("the AWS query
// string is malformed or does not adhere to AWS standards").
const MaxQueryParams = 10000

// CheckParamCount refuses a query string or form body of more than
// MaxQueryParams parameters, counted as net/url counts them (one more
// than its '&' separators), before anything parses it.
func CheckParamCount(s string) error {
	if strings.Count(s, "&")+1 > MaxQueryParams {
		return tooManyParams()
	}
	return nil
}

func tooManyParams() *Error {
	return &Error{Code: "InvalidQueryParameter", Status: 400,
		Message: fmt.Sprintf("The request has more than %d parameters.", MaxQueryParams)}
}

// commonParams are the parameters of every query request that no
// operation's input declares: the action and version, and the
// authentication parameters of SigV4 query signing and of SigV2.
var commonParams = map[string]bool{
	"Action": true, "Version": true,
	"AWSAccessKeyId": true, "Signature": true, "SignatureMethod": true, "SignatureVersion": true,
	"Timestamp": true, "Expires": true, "SecurityToken": true,
}

// unknownParam is the first parameter (in name order) of an EC2 request
// that the input shape sh does not declare, or that indexes a list with
// anything but a positive integer, named as EC2 names it in UnknownParameter:
// up to and including the part it does not recognize ("VpcIds" for
// VpcIds.1, "Filter.1.Foo" for Filter.1.Foo.1). "" when every parameter is
// known. EC2 answers such requests with UnknownParameter rather than
// ignoring the parameter, so a misspelt filter never silently widens a
// Describe to every resource.
func (c *Codec) unknownParam(sh *model.Shape, n *qnode, prefix string) string {
	byWire := make(map[string]*model.Ref, len(sh.MemberNames))
	for _, name := range sh.MemberNames {
		ref := sh.Members[name]
		byWire[c.queryMemberName(name, ref)] = ref
	}
	for _, k := range sortedKeys(n.children) {
		if prefix == "" && (commonParams[k] || strings.HasPrefix(k, "X-Amz-")) {
			continue
		}
		ref := byWire[k]
		if ref == nil {
			return prefix + k
		}
		if p := c.unknownIn(ref, n.children[k], prefix+k); p != "" {
			return p
		}
	}
	return ""
}

// unknownIn checks the parameters below name (the value of member ref).
func (c *Codec) unknownIn(ref *model.Ref, n *qnode, name string) string {
	sh := ref.Shape
	switch sh.Type {
	case "structure":
		return c.unknownParam(sh, n, name+".")
	case "list", "map":
		// An empty list is sent as "Name=" with no members.
		if len(n.children) == 0 && n.value != nil && *n.value != "" {
			return name
		}
		for _, k := range sortedKeys(n.children) {
			if i, err := strconv.Atoi(k); err != nil || i < 1 {
				return name + "." + k
			}
			e := n.children[k]
			if sh.Type == "list" {
				if p := c.unknownIn(sh.Member, e, name+"."+k); p != "" {
					return p
				}
				continue
			}
			kn, vn := cmp.Or(sh.Key.LocationName, "key"), cmp.Or(sh.Value.LocationName, "value")
			for _, ek := range sortedKeys(e.children) {
				switch ek {
				case kn:
				case vn:
					if p := c.unknownIn(sh.Value, e.children[ek], name+"."+k+"."+ek); p != "" {
						return p
					}
				default:
					return name + "." + k + "." + ek
				}
			}
		}
		return ""
	}
	if len(n.children) > 0 {
		return name + "." + sortedKeys(n.children)[0]
	}
	return ""
}

// queryMemberName is a member's parameter name: EC2 uses queryName, else the
// capitalized locationName; query uses the locationName (or, for a flattened
// list, the list member's locationName).
func (c *Codec) queryMemberName(name string, ref *model.Ref) string {
	if c.Protocol == EC2 {
		if ref.QueryName != "" {
			return ref.QueryName
		}
		if ref.LocationName != "" {
			return strings.ToUpper(ref.LocationName[:1]) + ref.LocationName[1:]
		}
		return name
	}
	if isFlattened(ref) && ref.Shape.Type == "list" && ref.Shape.Member.LocationName != "" {
		return ref.Shape.Member.LocationName
	}
	if ref.LocationName != "" {
		return ref.LocationName
	}
	return name
}

func (c *Codec) queryStruct(sh *model.Shape, n *qnode) (map[string]any, error) {
	out := map[string]any{}
	for _, name := range sh.MemberNames {
		ref := sh.Members[name]
		cn := n.child(c.queryMemberName(name, ref))
		if cn == nil {
			continue
		}
		v, err := c.queryValue(ref, cn, name)
		if err != nil {
			return nil, err
		}
		if v != nil {
			out[name] = v
		}
	}
	return out, nil
}

func (c *Codec) queryValue(ref *model.Ref, n *qnode, name string) (any, error) {
	sh := ref.Shape
	switch sh.Type {
	case "structure":
		return c.queryStruct(sh, n)
	case "list":
		if n.value != nil && *n.value == "" && len(n.children) == 0 {
			return []any{}, nil
		}
		items := n
		if c.Protocol != EC2 && !isFlattened(ref) {
			ln := "member"
			if sh.Member.LocationName != "" {
				ln = sh.Member.LocationName
			}
			items = n.child(ln)
			if items == nil {
				return []any{}, nil
			}
		}
		idx, err := items.indexed()
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, len(idx))
		for _, e := range idx {
			v, err := c.queryValue(sh.Member, e, name)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case "map":
		entries := n
		if !isFlattened(ref) {
			entries = n.child("entry")
			if entries == nil {
				return map[string]any{}, nil
			}
		}
		idx, err := entries.indexed()
		if err != nil {
			return nil, err
		}
		kn, vn := "key", "value"
		if sh.Key.LocationName != "" {
			kn = sh.Key.LocationName
		}
		if sh.Value.LocationName != "" {
			vn = sh.Value.LocationName
		}
		out := map[string]any{}
		for _, e := range idx {
			k := e.child(kn)
			if k == nil || k.value == nil {
				return nil, fmt.Errorf("map entry of %s without a key", name)
			}
			vnode := e.child(vn)
			if vnode == nil {
				out[*k.value] = nil
				continue
			}
			v, err := c.queryValue(sh.Value, vnode, name)
			if err != nil {
				return nil, err
			}
			out[*k.value] = v
		}
		return out, nil
	}
	if n.value == nil {
		return nil, nil
	}
	v, err := parseScalar(sh, ref, *n.value)
	if err != nil {
		return nil, &Error{Code: "InvalidParameterValue", Message: fmt.Sprintf("Value (%s) for parameter %s is invalid.", *n.value, name), Status: 400}
	}
	return v, nil
}

func (c *Codec) encodeQueryOutput(op *model.Operation, out map[string]any, requestID string, resp *Response) error {
	resp.Header.Set("Content-Type", "text/xml")
	w := &xmlWriter{defTS: FormatISO8601}
	w.b.Grow(2048)
	w.open(op.Name+"Response", nsAttrs(&model.XMLNamespace{URI: c.Service.Metadata.XMLNamespace}))
	if op.Output != nil {
		wrapper := op.Output.ResultWrapper
		if wrapper == "" {
			wrapper = op.Name + "Result"
		}
		w.open(wrapper, nil)
		if err := w.members(op.Output.Shape, out); err != nil {
			return err
		}
		w.close(wrapper)
	}
	w.b.WriteString("<ResponseMetadata><RequestId>")
	w.text(requestID)
	w.b.WriteString("</RequestId></ResponseMetadata>")
	w.close(op.Name + "Response")
	resp.Body = w.b.Bytes()
	return nil
}

func (c *Codec) encodeEC2Output(op *model.Operation, out map[string]any, requestID string, resp *Response) error {
	resp.Header.Set("Content-Type", "text/xml;charset=UTF-8")
	w := &xmlWriter{defTS: FormatISO8601}
	w.b.Grow(4096)
	w.b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	w.open(op.Name+"Response", nsAttrs(&model.XMLNamespace{URI: c.Service.Metadata.XMLNamespace}))
	w.b.WriteString("<requestId>")
	w.text(requestID)
	w.b.WriteString("</requestId>")
	if op.Output != nil {
		if err := w.members(op.Output.Shape, out); err != nil {
			return err
		}
	}
	w.close(op.Name + "Response")
	resp.Body = w.b.Bytes()
	return nil
}

func (c *Codec) decodeQueryOutput(op *model.Operation, resp *Response) (map[string]any, error) {
	root, err := parseXML(resp.Body)
	if err != nil {
		return nil, err
	}
	n := root
	if c.Protocol == Query {
		wrapper := op.Output.ResultWrapper
		if wrapper == "" {
			wrapper = op.Name + "Result"
		}
		if w := root.child(wrapper); w != nil {
			n = w
		}
	}
	return decodeXMLStruct(op.Output.Shape, n)
}
