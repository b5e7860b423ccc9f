package codec

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/model"
)

// xmlNode is a parsed XML element. A small tree is simpler than streaming here:
// bodies are bounded by the gateway, and shapes need random access to children.
type xmlNode struct {
	Name     xml.Name
	Attr     []xml.Attr
	Children []*xmlNode
	Text     string
}

const maxXMLDepth = 100

func parseXML(body []byte) (*xmlNode, error) {
	dec := xml.NewDecoder(bytes.NewReader(body))
	root := &xmlNode{}
	stack := []*xmlNode{root}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("malformed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) > maxXMLDepth {
				return nil, fmt.Errorf("malformed XML: nested too deeply")
			}
			n := &xmlNode{Name: t.Name, Attr: t.Attr}
			top := stack[len(stack)-1]
			top.Children = append(top.Children, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			top := stack[len(stack)-1]
			top.Text += string(t)
		}
	}
	if len(root.Children) != 1 {
		return nil, fmt.Errorf("malformed XML: expected one root element")
	}
	return root.Children[0], nil
}

func (n *xmlNode) children(local string) []*xmlNode {
	var out []*xmlNode
	for _, c := range n.Children {
		if c.Name.Local == local {
			out = append(out, c)
		}
	}
	return out
}

func (n *xmlNode) child(local string) *xmlNode {
	for _, c := range n.Children {
		if c.Name.Local == local {
			return c
		}
	}
	return nil
}

func (n *xmlNode) attr(name string) (string, bool) {
	prefix, local, ok := strings.Cut(name, ":")
	if !ok {
		local, prefix = prefix, ""
	}
	for _, a := range n.Attr {
		if a.Name.Local != local {
			continue
		}
		if prefix == "" || a.Name.Space == prefix || strings.HasSuffix(a.Name.Space, prefix) || prefix == "xsi" {
			return a.Value, true
		}
	}
	return "", false
}

// xmlFlatName is the element name of each entry of a flattened list or map.
func xmlFlatName(name string, ref *model.Ref) string {
	if ref.LocationName != "" {
		return ref.LocationName
	}
	if ref.Shape.Type == "list" && ref.Shape.Member.LocationName != "" {
		return ref.Shape.Member.LocationName
	}
	return name
}

func isFlattened(ref *model.Ref) bool { return ref.Flattened || ref.Shape.Flattened }

func xmlKeyName(sh *model.Shape) string {
	if sh.Key.LocationName != "" {
		return sh.Key.LocationName
	}
	return "key"
}

func xmlValueName(sh *model.Shape) string {
	if sh.Value.LocationName != "" {
		return sh.Value.LocationName
	}
	return "value"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// xmlDecoder reads parsed XML (rest-xml request bodies; query, ec2 and
// rest-xml responses in the tests), positioned at an element, an
// attribute's value or the elements of a flattened list or map.
type xmlDecoder struct {
	*decodeState
	node *xmlNode
	// attr is the value being read instead of node's text, if set.
	attr *string
	// flat are the elements of the flattened list or map member being read.
	flat []*xmlNode
}

// members reads the members of structure sh from element n.
func (x *xmlDecoder) members(sh *model.Shape, n *xmlNode, v Unmarshaler) error {
	node, attr, flat := x.node, x.attr, x.flat
	defer func() { x.node, x.attr, x.flat = node, attr, flat }()
	for _, ref := range sh.MemberRefs {
		if ref.Location != "" {
			continue
		}
		x.node, x.attr, x.flat = n, nil, nil
		wire := memberName(ref.Name, ref)
		switch {
		case ref.XMLAttribute:
			a, ok := n.attr(wire)
			if !ok {
				continue
			}
			x.attr = &a
		case isFlattened(ref) && (ref.Shape.Type == "list" || ref.Shape.Type == "map"):
			els := n.children(xmlFlatName(ref.Name, ref))
			if len(els) == 0 {
				continue
			}
			x.flat = els
		default:
			el := n.child(wire)
			if el == nil {
				continue
			}
			x.node = el
		}
		if err := v.UnmarshalAWS(x, ref); err != nil {
			return err
		}
	}
	return nil
}

func (x *xmlDecoder) text() string {
	if x.attr != nil {
		return *x.attr
	}
	return x.node.Text
}

func (x *xmlDecoder) String(*model.Ref) (string, error) { return x.text(), nil }
func (x *xmlDecoder) Bool(*model.Ref) (bool, error)     { return textBool(x.text()) }
func (x *xmlDecoder) Float(r *model.Ref) (float64, error) {
	return textFloat(r.Shape, x.text())
}
func (x *xmlDecoder) Time(*model.Ref) (time.Time, error) { return parseTime(x.text()) }
func (x *xmlDecoder) Blob(*model.Ref) ([]byte, error)    { return textBlob(x.text()) }
func (x *xmlDecoder) Value(*model.Ref) (any, error)      { return x.text(), nil }

func (x *xmlDecoder) Int(r *model.Ref) (int64, error) {
	n, err := textInt(r.Shape, x.text())
	return x.fits(r, n), err
}

func (x *xmlDecoder) Struct(ref *model.Ref, v Unmarshaler) error {
	return x.members(ref.Shape, x.node, v)
}

// elements are the elements of the list or map being read: those of a
// flattened member, the one element of a flattened value, or the children
// named name.
func (x *xmlDecoder) elements(ref *model.Ref, name string) []*xmlNode {
	switch {
	case x.flat != nil:
		return x.flat
	case isFlattened(ref):
		return []*xmlNode{x.node}
	}
	return x.node.children(name)
}

func (x *xmlDecoder) List(ref *model.Ref, each func(Decoder, bool) error) error {
	els := x.elements(ref, cmp.Or(ref.Shape.Member.LocationName, "member"))
	node, flat := x.node, x.flat
	defer func() { x.node, x.flat = node, flat }()
	x.flat = nil
	for _, el := range els {
		x.node = el
		if err := each(x, false); err != nil {
			return err
		}
	}
	return nil
}

func (x *xmlDecoder) Map(ref *model.Ref, each func(Decoder, string, bool) error) error {
	sh := ref.Shape
	els := x.elements(ref, "entry")
	node, flat := x.node, x.flat
	defer func() { x.node, x.flat = node, flat }()
	x.flat = nil
	kn, vn := xmlKeyName(sh), xmlValueName(sh)
	for _, el := range els {
		k, v := el.child(kn), el.child(vn)
		if k == nil {
			return fmt.Errorf("map entry without %s", kn)
		}
		if v != nil {
			x.node = v
		}
		if err := each(x, k.Text, v == nil); err != nil {
			return err
		}
	}
	return nil
}
