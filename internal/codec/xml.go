package codec

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"

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

// decodeXMLStruct decodes the members of structure sh from element n.
func decodeXMLStruct(sh *model.Shape, n *xmlNode) (map[string]any, error) {
	out := map[string]any{}
	for _, name := range sh.MemberNames {
		ref := sh.Members[name]
		if ref.Location != "" {
			continue
		}
		wire := memberName(name, ref)
		if ref.XMLAttribute {
			if v, ok := n.attr(wire); ok {
				val, err := parseScalar(ref.Shape, ref, v)
				if err != nil {
					return nil, err
				}
				out[name] = val
			}
			continue
		}
		if isFlattened(ref) && (ref.Shape.Type == "list" || ref.Shape.Type == "map") {
			els := n.children(xmlFlatName(name, ref))
			if len(els) == 0 {
				continue
			}
			v, err := decodeXMLFlat(ref, els)
			if err != nil {
				return nil, err
			}
			out[name] = v
			continue
		}
		el := n.child(wire)
		if el == nil {
			continue
		}
		v, err := decodeXMLValue(ref, el)
		if err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}

func decodeXMLFlat(ref *model.Ref, els []*xmlNode) (any, error) {
	sh := ref.Shape
	if sh.Type == "list" {
		out := make([]any, 0, len(els))
		for _, el := range els {
			v, err := decodeXMLValue(sh.Member, el)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	out := map[string]any{}
	for _, el := range els {
		if err := decodeXMLEntry(sh, el, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func decodeXMLEntry(sh *model.Shape, el *xmlNode, out map[string]any) error {
	kn, vn := xmlKeyName(sh), xmlValueName(sh)
	k, v := el.child(kn), el.child(vn)
	if k == nil {
		return fmt.Errorf("map entry without %s", kn)
	}
	if v == nil {
		out[k.Text] = nil
		return nil
	}
	val, err := decodeXMLValue(sh.Value, v)
	if err != nil {
		return err
	}
	out[k.Text] = val
	return nil
}

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

func decodeXMLValue(ref *model.Ref, n *xmlNode) (any, error) {
	sh := ref.Shape
	switch sh.Type {
	case "structure":
		return decodeXMLStruct(sh, n)
	case "list":
		if isFlattened(ref) {
			return decodeXMLFlat(ref, []*xmlNode{n})
		}
		name := "member"
		if sh.Member.LocationName != "" {
			name = sh.Member.LocationName
		}
		out := []any{}
		for _, el := range n.children(name) {
			v, err := decodeXMLValue(sh.Member, el)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case "map":
		out := map[string]any{}
		if isFlattened(ref) {
			return out, decodeXMLEntry(sh, n, out)
		}
		for _, el := range n.children("entry") {
			if err := decodeXMLEntry(sh, el, out); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return parseScalar(sh, ref, n.Text)
}

// xmlWriter writes XML by hand: encoding/xml's encoder cannot emit the exact
// namespace declarations AWS uses, and byte-level control keeps output stable.
type xmlWriter struct {
	b     bytes.Buffer
	defTS string
}

func (w *xmlWriter) text(s string) {
	// Most values (IDs, names, states) need no escaping: skip the copy to
	// []byte and the escaper's per-rune work for them.
	if plainXML(s) {
		w.b.WriteString(s)
		return
	}
	_ = xml.EscapeText(&w.b, []byte(s))
}

// plainXML reports whether s is printable ASCII needing no escape.
func plainXML(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '&' || c == '\'' || c == '"' {
			return false
		}
	}
	return true
}

func (w *xmlWriter) open(name string, attrs []string) {
	w.b.WriteByte('<')
	w.b.WriteString(name)
	for i := 0; i+1 < len(attrs); i += 2 {
		w.b.WriteByte(' ')
		w.b.WriteString(attrs[i])
		w.b.WriteString(`="`)
		w.text(attrs[i+1])
		w.b.WriteByte('"')
	}
	w.b.WriteByte('>')
}

func (w *xmlWriter) close(name string) {
	w.b.WriteString("</")
	w.b.WriteString(name)
	w.b.WriteByte('>')
}

func nsAttrs(ns *model.XMLNamespace) []string {
	if ns == nil || ns.URI == "" {
		return nil
	}
	if ns.Prefix != "" {
		return []string{"xmlns:" + ns.Prefix, ns.URI}
	}
	return []string{"xmlns", ns.URI}
}

// element writes v as an element called name.
func (w *xmlWriter) element(name string, ref *model.Ref, v any, extra []string) error {
	sh := ref.Shape
	attrs := append([]string(nil), extra...)
	if ref.XMLNamespace != nil {
		attrs = append(attrs, nsAttrs(ref.XMLNamespace)...)
	} else if sh.XMLNamespace != nil {
		attrs = append(attrs, nsAttrs(sh.XMLNamespace)...)
	}
	switch sh.Type {
	case "structure":
		m, _ := v.(map[string]any)
		for _, mn := range sh.MemberNames {
			mr := sh.Members[mn]
			if !mr.XMLAttribute {
				continue
			}
			if mv, ok := m[mn]; ok && mv != nil {
				s, err := scalarText(mr.Shape, mr, mv, w.defTS)
				if err != nil {
					return err
				}
				attrs = append(attrs, memberName(mn, mr), s)
			}
		}
		w.open(name, attrs)
		if err := w.members(sh, m); err != nil {
			return err
		}
		w.close(name)
	case "list":
		l, _ := v.([]any)
		if isFlattened(ref) {
			for _, e := range l {
				if err := w.element(name, sh.Member, e, nil); err != nil {
					return err
				}
			}
			return nil
		}
		w.open(name, attrs)
		in := "member"
		if sh.Member.LocationName != "" {
			in = sh.Member.LocationName
		}
		for _, e := range l {
			if err := w.element(in, sh.Member, e, nil); err != nil {
				return err
			}
		}
		w.close(name)
	case "map":
		m, _ := v.(map[string]any)
		keys := sortedKeys(m)
		flat := isFlattened(ref)
		if !flat {
			w.open(name, attrs)
		}
		for _, k := range keys {
			en := "entry"
			if flat {
				en = name
			}
			w.open(en, nil)
			w.open(xmlKeyName(sh), nil)
			w.text(k)
			w.close(xmlKeyName(sh))
			if err := w.element(xmlValueName(sh), sh.Value, m[k], nil); err != nil {
				return err
			}
			w.close(en)
		}
		if !flat {
			w.close(name)
		}
	default:
		s, err := scalarText(sh, ref, v, w.defTS)
		if err != nil {
			return err
		}
		w.open(name, attrs)
		w.text(s)
		w.close(name)
	}
	return nil
}

// members writes the body members of a structure (not attributes, not members
// bound to headers, the URI or the status code).
func (w *xmlWriter) members(sh *model.Shape, m map[string]any) error {
	for _, mn := range sh.MemberNames {
		mr := sh.Members[mn]
		if mr.XMLAttribute || mr.Location != "" {
			continue
		}
		mv, ok := m[mn]
		if !ok || mv == nil {
			continue
		}
		name := memberName(mn, mr)
		if isFlattened(mr) && mr.Shape.Type == "list" {
			name = xmlFlatName(mn, mr)
		}
		if err := w.element(name, mr, mv, nil); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
