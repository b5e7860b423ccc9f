package codec

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/model"
)

// A query request's parameters are dotted paths ("Filter.1.Value.2=x"). The
// decoder sorts them segment by segment, so that the parameters under one
// path ("Filter.1.") are one run of the sorted list, found by binary
// search: no tree is built.

type qpair struct{ key, value string }

// cmpQueryKeys orders keys segment by segment: a path before the paths
// under it ("A" < "A.x" < "A-b"), each segment as a string.
func cmpQueryKeys(a, b qpair) int {
	n := min(len(a.key), len(b.key))
	for i := 0; i < n; i++ {
		x, y := queryByte(a.key[i]), queryByte(b.key[i])
		if x != y {
			return cmp.Compare(x, y)
		}
	}
	return cmp.Compare(len(a.key), len(b.key))
}

// queryByte ranks '.' before every other byte.
func queryByte(c byte) int {
	if c == '.' {
		return 0
	}
	return int(c) + 1
}

// qnode is one path of a query request: the parameters pairs[lo:hi], all
// the path itself (its key is plen long) or under it. The root has plen -1.
type qnode struct {
	pairs  []qpair
	lo, hi int
	plen   int
}

// value is the path's own value, if it was sent.
func (n qnode) value() (string, bool) {
	if n.plen >= 0 && n.lo < n.hi && len(n.pairs[n.lo].key) == n.plen {
		return n.pairs[n.lo].value, true
	}
	return "", false
}

// first is the index of the first parameter below the path.
func (n qnode) first() int {
	if _, ok := n.value(); ok {
		return n.lo + 1
	}
	return n.lo
}

func (n qnode) hasChildren() bool { return n.first() < n.hi }

// segment is the segment of parameter i below the path.
func (n qnode) segment(i int) string {
	k := n.pairs[i].key[n.plen+1:]
	if j := strings.IndexByte(k, '.'); j >= 0 {
		return k[:j]
	}
	return k
}

// child is the path one segment below n.
func (n qnode) child(name string) (qnode, bool) {
	lo := n.first()
	i := lo + sortSearch(n.hi-lo, func(j int) bool { return n.segment(lo+j) >= name })
	if i >= n.hi || n.segment(i) != name {
		return qnode{}, false
	}
	j := i + 1 + sortSearch(n.hi-i-1, func(k int) bool { return n.segment(i+1+k) != name })
	return qnode{pairs: n.pairs, lo: i, hi: j, plen: n.plen + 1 + len(name)}, true
}

// sortSearch is sort.Search without the import.
func sortSearch(n int, f func(int) bool) int {
	i, j := 0, n
	for i < j {
		h := int(uint(i+j) >> 1)
		if !f(h) {
			i = h + 1
		} else {
			j = h
		}
	}
	return i
}

// children calls fn for each path one segment below n, in segment order,
// until it returns false.
func (n qnode) children(fn func(seg string, c qnode) bool) {
	for i := n.first(); i < n.hi; {
		seg := n.segment(i)
		j := i + 1
		for j < n.hi && n.segment(j) == seg {
			j++
		}
		if !fn(seg, qnode{pairs: n.pairs, lo: i, hi: j, plen: n.plen + 1 + len(seg)}) {
			return
		}
		i = j
	}
}

// indexed returns the children of n whose names are positive integers, in
// index order. AWS accepts sparse indices (1, 2, 5) and orders by number.
func (n qnode) indexed() ([]qnode, error) {
	type item struct {
		i int
		n qnode
	}
	var items []item
	var tooMany bool
	n.children(func(seg string, c qnode) bool {
		i, err := strconv.Atoi(seg)
		if err != nil || i < 1 {
			return true
		}
		if len(items) == 10000 {
			tooMany = true
			return false
		}
		items = append(items, item{i, c})
		return true
	})
	if tooMany {
		return nil, fmt.Errorf("too many list members")
	}
	slices.SortStableFunc(items, func(a, b item) int { return cmp.Compare(a.i, b.i) })
	out := make([]qnode, len(items))
	for i, it := range items {
		out[i] = it.n
	}
	return out, nil
}

// queryParams are a request's parameters, sorted: its query string and
// form body, the body's value winning.
func queryParams(r *Request) ([]qpair, error) {
	vals := r.Query
	if err := CheckParamCount(string(r.Body)); err != nil {
		return nil, err
	}
	if len(r.Body) > 0 {
		body, err := url.ParseQuery(string(r.Body))
		if err != nil {
			return nil, fmt.Errorf("malformed query string: %w", err)
		}
		for k, v := range vals {
			if _, ok := body[k]; !ok {
				body[k] = v
			}
		}
		vals = body
	}
	if len(vals) > MaxQueryParams {
		return nil, tooManyParams()
	}
	pairs := make([]qpair, 0, len(vals))
	for k, vs := range vals {
		if len(vs) > 0 {
			pairs = append(pairs, qpair{k, vs[0]})
		}
	}
	slices.SortFunc(pairs, cmpQueryKeys)
	return pairs, nil
}

func (c *Codec) decodeQueryInput(op *model.Operation, r *Request, in Unmarshaler, st *decodeState) error {
	pairs, err := queryParams(r)
	if err != nil {
		return err
	}
	root := qnode{pairs: pairs, hi: len(pairs), plen: -1}
	if c.Protocol == EC2 {
		if p := c.unknownParam(op.Input.Shape, root, ""); p != "" {
			return &Error{Code: "UnknownParameter", Message: "The parameter " + p + " is not recognized", Status: 400}
		}
	}
	q := &queryDecoder{decodeState: st, c: c, n: root}
	return q.members(op.Input.Shape, in)
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
func (c *Codec) unknownParam(sh *model.Shape, n qnode, prefix string) string {
	found := ""
	n.children(func(k string, cn qnode) bool {
		if prefix == "" && (commonParams[k] || strings.HasPrefix(k, "X-Amz-")) {
			return true
		}
		ref := c.memberByWire(sh, k)
		if ref == nil {
			found = prefix + k
			return false
		}
		found = c.unknownIn(ref, cn, prefix+k)
		return found == ""
	})
	return found
}

// unknownIn checks the parameters below name (the value of member ref).
func (c *Codec) unknownIn(ref *model.Ref, n qnode, name string) string {
	sh := ref.Shape
	switch sh.Type {
	case "structure":
		return c.unknownParam(sh, n, name+".")
	case "list", "map":
		// An empty list is sent as "Name=" with no members.
		if v, ok := n.value(); ok && v != "" && !n.hasChildren() {
			return name
		}
		found := ""
		n.children(func(k string, e qnode) bool {
			if i, err := strconv.Atoi(k); err != nil || i < 1 {
				found = name + "." + k
				return false
			}
			if sh.Type == "list" {
				found = c.unknownIn(sh.Member, e, name+"."+k)
				return found == ""
			}
			kn, vn := cmp.Or(sh.Key.LocationName, "key"), cmp.Or(sh.Value.LocationName, "value")
			e.children(func(ek string, en qnode) bool {
				switch ek {
				case kn:
				case vn:
					found = c.unknownIn(sh.Value, en, name+"."+k+"."+ek)
				default:
					found = name + "." + k + "." + ek
				}
				return found == ""
			})
			return found == ""
		})
		return found
	}
	found := ""
	n.children(func(k string, _ qnode) bool {
		found = name + "." + k
		return false
	})
	return found
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

// queryDecoder reads the query and ec2 protocols' parameters, positioned at
// one path.
type queryDecoder struct {
	*decodeState
	c *Codec
	n qnode
	// name is the innermost structure member's name, for error messages.
	name string
}

// members reads the members of structure sh at the current path.
func (q *queryDecoder) members(sh *model.Shape, v Unmarshaler) error {
	at, name := q.n, q.name
	defer func() { q.n, q.name = at, name }()
	for _, ref := range sh.MemberRefs {
		cn, ok := at.child(q.c.queryMemberName(ref.Name, ref))
		if !ok {
			continue
		}
		if _, has := cn.value(); !has && ref.Shape.IsScalar() {
			continue // a scalar without a value is absent
		}
		q.n, q.name = cn, ref.Name
		if err := v.UnmarshalAWS(q, ref); err != nil {
			return err
		}
	}
	return nil
}

func (q *queryDecoder) text() string {
	v, _ := q.n.value()
	return v
}

func (q *queryDecoder) invalid(v string) error {
	return &Error{Code: "InvalidParameterValue", Message: fmt.Sprintf("Value (%s) for parameter %s is invalid.", v, q.name), Status: 400}
}

func (q *queryDecoder) String(*model.Ref) (string, error) { return q.text(), nil }

func (q *queryDecoder) Bool(*model.Ref) (bool, error) {
	b, err := textBool(q.text())
	if err != nil {
		return false, q.invalid(q.text())
	}
	return b, nil
}

func (q *queryDecoder) Int(ref *model.Ref) (int64, error) {
	n, err := textInt(ref.Shape, q.text())
	if err != nil {
		return 0, q.invalid(q.text())
	}
	return q.fits(ref, n), nil
}

func (q *queryDecoder) Float(ref *model.Ref) (float64, error) {
	f, err := textFloat(ref.Shape, q.text())
	if err != nil {
		return 0, q.invalid(q.text())
	}
	return f, nil
}

func (q *queryDecoder) Time(*model.Ref) (time.Time, error) {
	t, err := parseTime(q.text())
	if err != nil {
		return time.Time{}, q.invalid(q.text())
	}
	return t, nil
}

func (q *queryDecoder) Blob(*model.Ref) ([]byte, error) {
	b, err := textBlob(q.text())
	if err != nil {
		return nil, q.invalid(q.text())
	}
	return b, nil
}

func (q *queryDecoder) Value(*model.Ref) (any, error) { return q.text(), nil }

func (q *queryDecoder) Struct(ref *model.Ref, v Unmarshaler) error { return q.members(ref.Shape, v) }

func (q *queryDecoder) List(ref *model.Ref, each func(Decoder, bool) error) error {
	n := q.n
	defer func() { q.n = n }()
	if v, ok := n.value(); ok && v == "" && !n.hasChildren() {
		return nil // "Name=": an empty list
	}
	items := n
	if q.c.Protocol != EC2 && !isFlattened(ref) {
		var ok bool
		if items, ok = n.child(cmp.Or(ref.Shape.Member.LocationName, "member")); !ok {
			return nil
		}
	}
	idx, err := items.indexed()
	if err != nil {
		return err
	}
	scalar := ref.Shape.Member.Shape.IsScalar()
	for _, e := range idx {
		q.n = e
		_, has := e.value()
		if err := each(q, scalar && !has); err != nil {
			return err
		}
	}
	return nil
}

func (q *queryDecoder) Map(ref *model.Ref, each func(Decoder, string, bool) error) error {
	n := q.n
	defer func() { q.n = n }()
	sh := ref.Shape
	entries := n
	if !isFlattened(ref) {
		var ok bool
		if entries, ok = n.child("entry"); !ok {
			return nil
		}
	}
	idx, err := entries.indexed()
	if err != nil {
		return err
	}
	kn, vn := cmp.Or(sh.Key.LocationName, "key"), cmp.Or(sh.Value.LocationName, "value")
	scalar := sh.Value.Shape.IsScalar()
	for _, e := range idx {
		knode, ok := e.child(kn)
		k, has := knode.value()
		if !ok || !has {
			return fmt.Errorf("map entry of %s without a key", q.name)
		}
		vnode, ok := e.child(vn)
		_, hasValue := vnode.value()
		q.n = vnode
		if err := each(q, k, !ok || scalar && !hasValue); err != nil {
			return err
		}
	}
	return nil
}
